package sessions

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/phoenixproxy/llmproxy/jsonbound"
)

var update = flag.Bool("update", false, "rewrite testdata/normal-form.golden from the code as it is")

// hashSpy is a shared Store that remembers nothing and notes what it is
// asked and told: the hashes of a call's prefixes that end with an answer
// (a fresh Resolver asks the shared store for all of them), and the hash
// of its history followed by its answer.
type hashSpy struct{ asked, put []uint64 }

func (s *hashSpy) Turn(_ context.Context, hashes []uint64) (int, string, error) {
	s.asked = append(s.asked, hashes...)
	return -1, "", nil
}
func (s *hashSpy) ID(context.Context, []string) (int, string, error) { return -1, "", nil }
func (s *hashSpy) PutTurn(h uint64, _ string)                        { s.put = append(s.put, h) }
func (s *hashSpy) PutID(string, string)                              {}

// The hashes of conversations are shared by replicas (package redisstore)
// and outlive a release: a proxy of the next version must compute the
// same hashes for the same history as this one, or the sessions of a
// rolling upgrade split in two. testdata/normal-form.jsonl holds histories
// of every dialect, with every kind of part and the JSON that tells
// readers apart (escapes, surrogates, numbers, duplicate and escaped keys,
// whitespace); testdata/normal-form.golden the hashes they had when it was
// last written. A change of the normal form is a change of that file, made
// on purpose (go test ./sessions -run NormalForm -update).
func TestNormalFormUnchanged(t *testing.T) {
	f, err := os.Open("testdata/normal-form.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	byName := map[string]*Dialect{}
	for _, d := range dialects {
		byName[d.name] = d
	}
	var got strings.Builder
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		c := gjson.Parse(sc.Text())
		d := byName[c.Get("dialect").Str]
		if d == nil {
			t.Fatalf("%s: no dialect %q", c.Get("name").Str, c.Get("dialect").Str)
		}
		answer := c.Get("answer")
		if answer.Type == gjson.Null {
			answer = gjson.Result{}
		}
		// Read plain, then through an index of the body made as the
		// handler makes it (jsonbound.CheckIndex): the same hashes.
		var lines [2]string
		for i := range lines {
			spy := &hashSpy{}
			r := New(Options{Shared: spy})
			call := Call{Dialect: d, Header: http.Header{}, Body: []byte(c.Get("body").Raw)}
			if i == 1 {
				var e jsonbound.Ends
				if jsonbound.CheckIndex(call.Body, &e) == nil {
					call.Index = &e
				}
			}
			r.Identify(context.Background(), call, answer.Raw)
			lines[i] = fmt.Sprintf("%s\tasked %x\tput %x\n", c.Get("name").Str, spy.asked, spy.put)
		}
		if lines[1] != lines[0] {
			t.Errorf("read through the body's index:\n got %s\nwant %s", lines[1], lines[0])
		}
		got.WriteString(lines[0])
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("testdata/normal-form.golden", []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile("testdata/normal-form.golden")
	if err != nil {
		t.Fatal(err)
	}
	gotLines, wantLines := strings.Split(got.String(), "\n"), strings.Split(string(want), "\n")
	if len(gotLines) != len(wantLines) {
		t.Fatalf("%d cases, the golden file has %d", len(gotLines)-1, len(wantLines)-1)
	}
	for i := range gotLines {
		if gotLines[i] != wantLines[i] {
			t.Errorf("hashes changed:\n got %s\nwant %s", gotLines[i], wantLines[i])
		}
	}
}
