package stream

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/phoenixproxy/llmproxy/integration/googlefake"
)

// TestParserGeminiStreams: Gemini ends its events in "\r\n\r\n"; each is one
// data line, one chunk, however the reads cut it.
func TestParserGeminiStreams(t *testing.T) {
	for _, name := range geminiStreams {
		t.Run(name, func(t *testing.T) {
			in := readTestdata(t, "gemini/"+name+".sse")
			var want []ev
			for _, raw := range strings.SplitAfter(string(in), "\r\n\r\n") {
				if raw != "" {
					data := strings.TrimSuffix(strings.TrimPrefix(raw, "data: "), "\r\n\r\n")
					want = append(want, ev{Data: data, HasData: true, Raw: raw})
				}
			}
			if len(want) != bytes.Count(in, []byte("\r\n\r\n")) {
				t.Fatalf("the body does not end in an event's blank line")
			}
			got, pending := parse(in)
			if !equalEvents(got, want) || pending != "" {
				t.Fatalf("events = %.300v, Pending() %q; want %.300v", got, pending, want)
			}
			for _, e := range got {
				if !json.Valid([]byte(e.Data)) {
					t.Errorf("event data %.80q… is not JSON", e.Data)
				}
			}
			// Reads cut around every event's end, in its CRLFs.
			for i := bytes.Index(in, []byte("\r\n\r\n")); i >= 0; {
				for at := max(i-1, 0); at <= min(i+5, len(in)); at++ {
					split, pending := canonical(parse(in[:at], in[at:]))
					if !equalEvents(split, want) || pending != "" {
						t.Fatalf("split at %d: events differ from one read's", at)
					}
				}
				next := bytes.Index(in[i+4:], []byte("\r\n\r\n"))
				if next < 0 {
					break
				}
				i += 4 + next
			}
			for _, sizes := range [][]byte{nil, {7, 0, 150}} {
				split, pending := canonical(parse(cut(in, sizes)...))
				if !equalEvents(split, want) || pending != "" {
					t.Errorf("reads of %v bytes: events differ from one read's", sizes)
				}
			}
		})
	}
}

// TestGeminiAccumulatorRecordedStreams accumulates real Gemini streams and
// compares the response with the one openinference-instrumentation-
// google-genai accumulated from them (its output.value), after renaming
// our members to snake_case. Where the two differ, and why:
//
//   - sdk_http_response (the golden's): the SDK's record of the HTTP
//     response, not in the stream; left out.
//   - usage_metadata.service_tier (ours): Gemini sends serviceTier; the SDK
//     that recorded the golden had no such field and dropped it.
//   - thought_signature: the same bytes, the golden's in URL-safe base64
//     (how pydantic writes bytes), ours as Gemini sent it (standard base64).
//   - create_time: the golden's is Python's str() of a datetime
//     ("2026-03-21 18:11:55.919086+00:00"), ours as Gemini sent it
//     (RFC 3339).
func TestGeminiAccumulatorRecordedStreams(t *testing.T) {
	for _, name := range geminiStreams {
		t.Run(name, func(t *testing.T) {
			var a GeminiAccumulator
			firsts := addAll(t, &a, streamChunks(t, readTestdata(t, "gemini/"+name+".sse")))
			if firsts != 1 || !a.Done() || a.Err() != "" {
				t.Errorf("first token %d times, Done %v, Err %q; want 1, true, none", firsts, a.Done(), a.Err())
			}
			result := a.Result()
			var got, want map[string]any
			if err := json.Unmarshal(result, &got); err != nil {
				t.Fatalf("Result() is not a JSON object: %v", err)
			}
			if err := json.Unmarshal(readTestdata(t, "gemini/"+name+".output.json"), &want); err != nil {
				t.Fatal(err)
			}
			got = googlefake.SnakeKeys(got).(map[string]any)
			delete(want, "sdk_http_response")
			if u, ok := got["usage_metadata"].(map[string]any); ok {
				delete(u, "service_tier")
			}
			if c, ok := got["create_time"].(string); ok {
				tm, err := time.Parse(time.RFC3339Nano, c)
				if err != nil {
					t.Fatalf("createTime %q: %v", c, err)
				}
				got["create_time"] = tm.Format("2006-01-02 15:04:05.000000-07:00")
			}
			for _, c := range got["candidates"].([]any) {
				for _, p := range c.(map[string]any)["content"].(map[string]any)["parts"].([]any) {
					if sig, ok := p.(map[string]any)["thought_signature"].(string); ok {
						b, err := base64.StdEncoding.DecodeString(sig)
						if err != nil {
							t.Fatalf("thoughtSignature %q: %v", sig, err)
						}
						p.(map[string]any)["thought_signature"] = base64.URLEncoding.EncodeToString(b)
					}
				}
			}
			if !reflect.DeepEqual(got, want) {
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(want)
				t.Errorf("Result() = %.1500s\nwant %.1500s", g, w)
			}
			if !strings.HasPrefix(string(result), `{"candidates":[{"content":{"parts":[`) {
				t.Errorf("Result() = %.80s…; want the candidates first", result)
			}
		})
	}
}

// geminiChunk is a chunk of one candidate with these parts.
func geminiChunk(parts string, rest string) string {
	return `{"candidates":[{"content":{"parts":[` + parts + `],"role":"model"}` + rest + `}]}`
}

func TestGeminiAccumulator(t *testing.T) {
	for _, tt := range []struct {
		name   string
		chunks []string
		want   string
		first  int // the chunk that reports the first token, -1 none
		done   bool
		err    string
	}{
		{
			name: "text joined, usage and ids the last seen",
			chunks: []string{
				`{"candidates":[{"content":{"parts":[{"text":"Hel"}],"role":"model"}}],"usageMetadata":{"promptTokenCount":5,"totalTokenCount":5},"modelVersion":"gemini-2.5-flash","responseId":"r1"}`,
				`{"candidates":[{"content":{"parts":[{"text":"lo \"w\"\n"}],"role":"model"}}],"usageMetadata":{"promptTokenCount":5,"totalTokenCount":5},"modelVersion":"","responseId":"r1"}`,
				`{"candidates":[{"content":{"parts":[{"text":"\u00e9"}],"role":"model"},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":3,"totalTokenCount":8}}`,
			},
			want: `{"candidates":[{"content":{"parts":[{"text":"Hello \"w\"\né"}],"role":"model"},"finishReason":"STOP"}],` +
				`"usageMetadata":{"promptTokenCount":5,"totalTokenCount":8,"candidatesTokenCount":3},"modelVersion":"gemini-2.5-flash","responseId":"r1"}`,
			first: 0, done: true,
		},
		{
			// As Gemini 3 sends it: the signature last, on an empty text
			// part with the finishReason; it joins the text before it.
			name: "thought then text, the signature on a later empty part",
			chunks: []string{
				geminiChunk(`{"text":"Think","thought":true}`, ``),
				geminiChunk(`{"text":"ing.","thought":true}`, ``),
				geminiChunk(`{"text":"Answer"}`, ``),
				geminiChunk(`{"text":"","thoughtSignature":"c2ln"}`, `,"finishReason":"STOP"`),
			},
			want:  `{"candidates":[{"content":{"parts":[{"text":"Thinking.","thought":true},{"text":"Answer","thoughtSignature":"c2ln"}],"role":"model"},"finishReason":"STOP"}]}`,
			first: 0, done: true,
		},
		{
			name: "a later signature replaces one before",
			chunks: []string{
				geminiChunk(`{"text":"A","thought":true,"thoughtSignature":"czE="}`, ``),
				geminiChunk(`{"text":"B","thought":true,"thoughtSignature":"czI="}`, ``),
				geminiChunk(`{"text":"C"}`, ``),
			},
			want:  `{"candidates":[{"content":{"parts":[{"text":"AB","thought":true,"thoughtSignature":"czI="},{"text":"C"}],"role":"model"}}]}`,
			first: 0,
		},
		{
			name: "thought text is the first token, empty text is none",
			chunks: []string{
				geminiChunk(`{"text":"","thought":true}`, ``),
				geminiChunk(`{"text":"Hmm","thought":true}`, ``),
			},
			want:  `{"candidates":[{"content":{"parts":[{"text":"Hmm","thought":true}],"role":"model"}}]}`,
			first: 1,
		},
		{
			name: "function calls kept apart, text before them",
			chunks: []string{
				geminiChunk(`{"text":"Let me check."}`, ``),
				geminiChunk(`{"functionCall":{"name":"get_weather","args":{"city":"Paris"},"id":"c1"},"thoughtSignature":"c2ln"},{"functionCall":{"name":"get_time","args":{}}}`, ``),
				geminiChunk(`{"functionCall":{"name":"get_weather","args":{"city":"Rome"}}}`, `,"finishReason":"STOP"`),
			},
			want: `{"candidates":[{"content":{"parts":[{"text":"Let me check."},` +
				`{"functionCall":{"name":"get_weather","args":{"city":"Paris"},"id":"c1"},"thoughtSignature":"c2ln"},` +
				`{"functionCall":{"name":"get_time","args":{}}},{"functionCall":{"name":"get_weather","args":{"city":"Rome"}}}],"role":"model"},"finishReason":"STOP"}]}`,
			first: 0, done: true,
		},
		{
			name: "a function call without a name continues the one before",
			chunks: []string{
				geminiChunk(`{"functionCall":{"name":"f","args":{"a":1},"willContinue":true}}`, ``),
				geminiChunk(`{"functionCall":{"args":{"a":1,"b":2},"willContinue":false}}`, ``),
			},
			want:  `{"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","args":{"a":1,"b":2},"willContinue":false}}],"role":"model"}}]}`,
			first: 0,
		},
		{
			name: "inline data and code execution kept apart, empty text dropped",
			chunks: []string{
				geminiChunk(`{"text":""}`, ``),
				geminiChunk(`{"inlineData":{"mimeType":"image/png","data":"iVBORw0KGgo="}}`, ``),
				geminiChunk(`{"executableCode":{"language":"PYTHON","code":"print(1)"}}`, ``),
				geminiChunk(`{"codeExecutionResult":{"outcome":"OUTCOME_OK","output":"1\n"}}`, ``),
				geminiChunk(`{"executableCode":{"language":"PYTHON","code":"print(2)"}}`, ``),
			},
			want: `{"candidates":[{"content":{"parts":[{"inlineData":{"mimeType":"image/png","data":"iVBORw0KGgo="}},` +
				`{"executableCode":{"language":"PYTHON","code":"print(1)"}},{"codeExecutionResult":{"outcome":"OUTCOME_OK","output":"1\n"}},` +
				`{"executableCode":{"language":"PYTHON","code":"print(2)"}}],"role":"model"}}]}`,
			first: 1,
		},
		{
			name: "candidates by index, in order",
			chunks: []string{
				`{"candidates":[{"index":1,"content":{"parts":[{"text":"b"}]}},{"index":0,"content":{"parts":[{"text":"a"}]}}]}`,
				`{"candidates":[{"index":1,"content":{"parts":[{"text":"B"}]},"finishReason":"STOP"}]}`,
			},
			want:  `{"candidates":[{"content":{"parts":[{"text":"a"}]},"index":0},{"content":{"parts":[{"text":"bB"}]},"index":1,"finishReason":"STOP"}]}`,
			first: 0, done: true,
		},
		{
			name: "other candidate members are the last seen",
			chunks: []string{
				geminiChunk(`{"text":"a"}`, `,"safetyRatings":[{"category":"HARM_CATEGORY_HARASSMENT","probability":"LOW"}],"citationMetadata":{"citations":[{"startIndex":0,"endIndex":1,"uri":"https://a"}]}`),
				geminiChunk(`{"text":"b"}`, `,"safetyRatings":[{"category":"HARM_CATEGORY_HARASSMENT","probability":"NEGLIGIBLE"}],"groundingMetadata":{"webSearchQueries":["q"]},"finishReason":"STOP"`),
			},
			want: `{"candidates":[{"content":{"parts":[{"text":"ab"}],"role":"model"},"safetyRatings":[{"category":"HARM_CATEGORY_HARASSMENT","probability":"NEGLIGIBLE"}],` +
				`"citationMetadata":{"citations":[{"startIndex":0,"endIndex":1,"uri":"https://a"}]},"groundingMetadata":{"webSearchQueries":["q"]},"finishReason":"STOP"}]}`,
			first: 0, done: true,
		},
		{
			name: "a candidate with no content",
			chunks: []string{
				`{"candidates":[{"finishReason":"MAX_TOKENS","index":0}],"usageMetadata":{"promptTokenCount":3}}`,
			},
			want:  `{"candidates":[{"content":{"parts":[]},"finishReason":"MAX_TOKENS","index":0}],"usageMetadata":{"promptTokenCount":3}}`,
			first: -1, done: true,
		},
		{
			name: "prompt blocked",
			chunks: []string{
				`{"promptFeedback":{"blockReason":"SAFETY","safetyRatings":[{"category":"HARM_CATEGORY_DANGEROUS_CONTENT","probability":"HIGH"}]},"usageMetadata":{"promptTokenCount":3,"totalTokenCount":3},"modelVersion":"gemini-2.0-flash","responseId":"r"}`,
			},
			want: `{"candidates":[],"usageMetadata":{"promptTokenCount":3,"totalTokenCount":3},"modelVersion":"gemini-2.0-flash","responseId":"r",` +
				`"promptFeedback":{"blockReason":"SAFETY","safetyRatings":[{"category":"HARM_CATEGORY_DANGEROUS_CONTENT","probability":"HIGH"}]}}`,
			first: -1, done: true,
		},
		{
			name: "error chunk",
			chunks: []string{
				geminiChunk(`{"text":"Par"}`, ``),
				`{"error":{"code":500,"message":"Internal error encountered.","status":"INTERNAL"}}`,
			},
			want:  `{"candidates":[{"content":{"parts":[{"text":"Par"}],"role":"model"}}]}`,
			first: 0,
			err:   `{"error":{"code":500,"message":"Internal error encountered.","status":"INTERNAL"}}`,
		},
		{
			name: "null members replace nothing",
			chunks: []string{
				`{"candidates":[{"content":{"parts":[{"text":"a"}],"role":"model"}}],"modelVersion":"m","usageMetadata":{"totalTokenCount":2}}`,
				`{"candidates":[{"content":{"parts":[{"text":null}],"role":null},"finishReason":null}],"modelVersion":null,"usageMetadata":{"totalTokenCount":null},"promptFeedback":null}`,
			},
			want:  `{"candidates":[{"content":{"parts":[{"text":"a"}],"role":"model"}}],"usageMetadata":{"totalTokenCount":2},"modelVersion":"m"}`,
			first: 0,
		},
		{
			name: "members of the wrong type are left out",
			chunks: []string{
				`{"candidates":"x","usageMetadata":3,"modelVersion":"m"}`,
				`{"candidates":[1,[],{},{"content":"c"},{"content":{"parts":"p"}},{"content":{"parts":[7,{}]}}]}`,
			},
			want:  `{"candidates":[{"content":{"parts":[]}},{"content":{"parts":[]}},{"content":{"parts":[]}}],"modelVersion":"m"}`,
			first: -1,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var a GeminiAccumulator
			first := -1
			for i, c := range tt.chunks {
				f, err := a.Add([]byte(c))
				if err != nil {
					t.Fatalf("Add(chunk %d) error = %v", i, err)
				}
				if f {
					if first >= 0 {
						t.Errorf("first token at chunks %d and %d", first, i)
					}
					first = i
				}
			}
			if got := a.Result(); !jsonEqual(t, got, []byte(tt.want)) {
				t.Errorf("Result() = %s\nwant %s", got, tt.want)
			}
			if first != tt.first || a.Done() != tt.done || a.Err() != tt.err {
				t.Errorf("first token at %d, Done %v, Err %q; want %d, %v, %q", first, a.Done(), a.Err(), tt.first, tt.done, tt.err)
			}
		})
	}
}

func TestGeminiAccumulatorBadChunk(t *testing.T) {
	var a GeminiAccumulator
	for _, chunk := range []string{"", "[]", `"text"`, "null", `{"candidates":`, "{\"a\":1}\xff", strings.Repeat("[", 4_000_000),
		`{"candidates":[{"content":{"parts":[{"text":` + strings.Repeat("[", 4_000_000) + `}]}}]}`} {
		if _, err := a.Add([]byte(chunk)); !errors.Is(err, ErrBadChunk) {
			t.Errorf("Add(%.40q…) error = %v; want ErrBadChunk", chunk, err)
		}
	}
	if got := string(a.Result()); got != `{"candidates":[]}` {
		t.Errorf("Result() = %q; want nothing accumulated", got)
	}
}

// TestGeminiRelay relays the recorded streams, as SSE and as the JSON array
// Gemini sends without ?alt=sse, in reads of random sizes: the client gets
// the bytes as they came, and both framings accumulate the same response.
func TestGeminiRelay(t *testing.T) {
	for _, name := range geminiStreams {
		chunks, bodies := geminiArrayBodies(t, name)
		var want GeminiAccumulator
		addAll(t, &want, chunks)
		bodies["sse"] = readTestdata(t, "gemini/"+name+".sse")
		for layout, body := range bodies {
			t.Run(name+" "+layout, func(t *testing.T) {
				for seed := range uint64(5) {
					firsts := 0
					r := Relay{Framing: JSONArray, Acc: &GeminiAccumulator{}, MaxEvent: 1 << 20, OnFirstToken: func() { firsts++ }}
					if layout == "sse" {
						r.Framing = SSE
					}
					var out bytes.Buffer
					if err := r.Copy(&out, func() {}, randomReads(body, seed, 64)); err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(out.Bytes(), body) {
						t.Fatalf("seed %d: the client got other bytes than the upstream's", seed)
					}
					if got := r.Acc.Result(); !bytes.Equal(got, want.Result()) {
						t.Fatalf("seed %d: Result() = %.300s\nwant %.300s", seed, got, want.Result())
					}
					if firsts != 1 || !r.Done() || r.Truncated() || r.CutEvents != 0 {
						t.Fatalf("seed %d: first token %d times, Done %v, Truncated %v, %d cut; want 1, true, false, 0", seed, firsts, r.Done(), r.Truncated(), r.CutEvents)
					}
				}
			})
		}
	}
}

func FuzzGeminiAccumulator(f *testing.F) {
	// Small seeds: the first two chunks of each recorded stream and its
	// last, one a line.
	for _, name := range geminiStreams {
		chunks := streamChunks(f, readTestdata(f, "gemini/"+name+".sse"))
		seed := append(chunks[:min(2, len(chunks)):min(2, len(chunks))], chunks[len(chunks)-1])
		f.Add(bytes.Join(seed, []byte("\n")))
	}
	f.Add([]byte(geminiChunk(`{"functionCall":{"args":{}}},{"text":"a","thought":1},{}`, `,"index":-4`) + "\n" +
		geminiChunk(`{"functionCall":{"name":"f"}},{"functionCall":null},{"text":"\ud800"}`, `,"finishReason":""`) + "\n" +
		`{"candidates":{"content":{"parts":{"text":"x"}}},"promptFeedback":{"blockReason":""}}` + "\n" +
		`{"error":null}` + "\n" + `{"error":{"code":1}}` + "\n\xff"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var a GeminiAccumulator
		fuzzAccumulator(t, &a, &GeminiAccumulator{}, in)
		res := gjson.ParseBytes(a.Result())
		if !res.Get("candidates").IsArray() {
			t.Fatalf("Result() = %q: want a candidates list", a.Result())
		}
		for _, c := range res.Get("candidates").Array() {
			if !c.Get("content.parts").IsArray() {
				t.Fatalf("Result() = %q: want every candidate with its content's parts", a.Result())
			}
		}
	})
}
