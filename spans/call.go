package spans

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/tidwall/gjson"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/phoenixproxy/llmproxy/jsonbound"
	"github.com/phoenixproxy/llmproxy/openai"
)

// tracerName is the instrumentation scope of every span the proxy makes.
const tracerName = "github.com/phoenixproxy/llmproxy/spans"

// Recorder starts one span per proxied call. It holds no per-call state and
// is safe for concurrent use.
type Recorder struct {
	tracer    trace.Tracer
	projects  ProjectTracers // nil: every span in the provider's project
	redaction *Redaction
}

// ProjectTracers is what a TracerProvider offers when a call's span may go
// to another Phoenix project than the provider's own.
type ProjectTracers interface {
	// ForProject is the tracer provider of spans of the named project, or
	// false when no more projects are admitted.
	ForProject(name string) (trace.TracerProvider, bool)
}

// NewRecorder returns a Recorder whose spans go to tp, with OpenInference's
// default redaction (base64 images over 32,000 characters).
func NewRecorder(tp trace.TracerProvider) *Recorder {
	return NewRedactingRecorder(tp, &Redaction{})
}

// NewRedactingRecorder returns a Recorder whose spans go to tp with what
// red hides hidden. When tp is also ProjectTracers, a call that names a
// Phoenix project has its span made by that project's provider.
func NewRedactingRecorder(tp trace.TracerProvider, red *Redaction) *Recorder {
	r := &Recorder{tracer: tp.Tracer(tracerName), redaction: red}
	r.projects, _ = tp.(ProjectTracers)
	return r
}

// Request is what is known of a call when it starts.
type Request struct {
	Op *Operation
	// System and Provider are llm.system (the API family, e.g. openai) and
	// llm.provider (who hosts the model, e.g. azure).
	System, Provider string
	// Model is the model the request names, as sent upstream.
	Model string
	// Body is the request JSON as sent upstream, without the fields the
	// proxy adds for itself (stream_options it asked for).
	Body []byte
	// SessionID, UserID and Tags come from the x-session-id, x-user-id and
	// x-tags headers (or LiteLLM's x-litellm-session-id, x-litellm-tags);
	// empty when absent. HeaderMetadata is LiteLLM's
	// x-litellm-spend-logs-metadata header, a JSON object.
	SessionID, UserID string
	Tags              []string
	HeaderMetadata    string
	// BaseModel, when set, is llm.model_name whatever the answer names: the
	// model a config file's model_info.base_model says a deployment serves,
	// which Phoenix prices.
	BaseModel string
	// Project, when set, is the Phoenix project the span goes to rather
	// than the default one.
	Project string
}

// Call is the span of one proxied call. Its methods must be called from one
// goroutine at a time; End must be called exactly once.
type Call struct {
	span      trace.Span
	req       Request
	redaction *Redaction
	started   time.Time
	firstAt   time.Time // when the first token reached the client
	callID    string
	// resp holds the response's attributes until End sets them after the
	// request's, so that where both name a key (the tools of a Responses
	// call) the response's wins, as in the instrumentor; hdr those read
	// from the answer's headers, which the body's win over.
	resp, hdr []attribute.KeyValue
}

// Start starts the span of a call as a child of whatever span ctx carries
// (the caller's traceparent), with the attributes that need no parsing. The
// attributes read from the request's body are built when the call ends,
// after the answer has gone out, so the client never waits for them:
// req.Body must stay unchanged until End.
func (r *Recorder) Start(ctx context.Context, req Request) (context.Context, *Call) {
	tracer, limited := r.tracer, false
	if req.Project != "" && r.projects != nil {
		if tp, ok := r.projects.ForProject(req.Project); ok {
			tracer = tp.Tracer(tracerName)
		} else {
			limited = true
		}
	}
	ctx, span := tracer.Start(ctx, req.Op.Name, trace.WithSpanKind(trace.SpanKindInternal))
	if span.IsRecording() {
		a := Attrs{kv: make([]attribute.KeyValue, 0, 4)}
		a.String(KeySpanKind, req.Op.Kind)
		if sys := cmp.Or(req.System, req.Op.System); sys != "" {
			a.String(KeyLLMSystem, sys)
		}
		if req.Provider != "" {
			a.String(KeyLLMProvider, req.Provider)
		}
		if m := req.spanModel(); m != "" && req.Op.Kind == KindLLM {
			// The response's model replaces it when there is one.
			a.String(KeyLLMModelName, m)
		}
		if limited {
			span.AddEvent(EventProjectLimit, trace.WithAttributes(attribute.String(KeyProjectName, req.Project)))
		}
		span.SetAttributes(a.KeyValues()...)
	}
	return ctx, &Call{span: span, req: req, redaction: r.redaction, started: time.Now()}
}

func (req *Request) spanModel() string {
	if req.BaseModel != "" {
		return req.BaseModel
	}
	return req.Model
}

// Deployment names the config file's deployment an attempt goes to.
type Deployment struct {
	Group, ID, APIBase string
}

// Retarget moves the call to another upstream before any answer reached
// the client (a fallback to another provider or model): the span records
// the call as it was made to the attempt that answers.
func (c *Call) Retarget(system, provider, model, baseModel string, body []byte) {
	c.req.System, c.req.Provider, c.req.Model, c.req.BaseModel, c.req.Body = system, provider, model, baseModel, body
	a := Attrs{kv: make([]attribute.KeyValue, 0, 3)}
	a.String(KeyLLMSystem, cmp.Or(system, c.req.Op.System))
	a.String(KeyLLMProvider, provider)
	if m := c.req.spanModel(); m != "" && c.req.Op.Kind == KindLLM {
		a.String(KeyLLMModelName, m)
	}
	c.span.SetAttributes(a.KeyValues()...)
}

// SetDeployment records the deployment that answered, and the attempts
// made before it.
func (c *Call) SetDeployment(d Deployment, retries, fallbacks int) {
	if !c.span.IsRecording() {
		return
	}
	kv := make([]attribute.KeyValue, 0, 5)
	if d.Group != "" {
		kv = append(kv, attribute.String(KeyModelGroup, d.Group))
	}
	if d.ID != "" {
		kv = append(kv, attribute.String(KeyModelID, d.ID))
	}
	if d.APIBase != "" {
		kv = append(kv, attribute.String(KeyAPIBase, d.APIBase))
	}
	if retries > 0 || fallbacks > 0 {
		kv = append(kv, attribute.Int(KeyAttemptedRetries, retries), attribute.Int(KeyAttemptedFallbacks, fallbacks))
	}
	c.span.SetAttributes(kv...)
}

// AttemptFailed records an attempt that failed before another was made: an
// event with the attempt's number, deployment, model, status (0: no
// answer) and error.
func (c *Call) AttemptFailed(n int, d Deployment, model string, status int, msg string) {
	if !c.span.IsRecording() {
		return
	}
	if gjson.Valid(msg) {
		msg = withoutSecrets(msg) // an upstream's error body
	}
	const maxMsg = 2048
	if len(msg) > maxMsg {
		msg = msg[:maxMsg]
	}
	c.span.AddEvent(EventAttemptFailed, trace.WithAttributes(
		attribute.Int(KeyAttemptNumber, n),
		attribute.String(KeyModelGroup, d.Group),
		attribute.String(KeyModelID, d.ID),
		attribute.String(KeyAPIBase, d.APIBase),
		attribute.String(KeyLLMModelName, model),
		attribute.Int(KeyAttemptStatus, status),
		attribute.String(KeyAttemptError, c.redaction.MaskString(msg)),
	))
}

// requestAttrs are the attributes read from the body of the request that
// started the call, in a slice with room for as many more.
func (c *Call) requestAttrs(room int) []attribute.KeyValue {
	req := c.req
	a := Attrs{kv: make([]attribute.KeyValue, 0, 32+room)}
	// One copy of the body: the attribute and the parsed values share it.
	// Credentials a client put in the body never reach the span.
	raw := withoutSecrets(string(req.Body))
	if obj := gjson.Parse(raw); obj.IsObject() {
		a.String(KeyInputValue, raw)
		a.String(KeyInputMimeType, MimeJSON)
		body := readRequest(obj, req.Op.Drop...)
		if !body.model.Exists() {
			body.pathModel = req.Model
		}
		if req.Op.ParamsKey != "" {
			a.String(req.Op.ParamsKey, body.params)
		}
		req.Op.Request(&a, &body)
		if name := contextAttrs(&a, &body, req); name != "" {
			c.span.SetName(name)
		}
	}
	return a.KeyValues()
}

// contextAttrs records who made the call and in what context, as LiteLLM
// reads it: the headers (x-session-id or x-litellm-session-id, x-user-id,
// x-tags or x-litellm-tags, x-litellm-spend-logs-metadata) first, then
// the request's metadata (LiteLLM's litellm_metadata on the APIs that have
// a metadata of their own): session_id → session.id, trace_user_id →
// user.id, tags → tag.tags, the rest → metadata; the OpenAI user field
// last.
//
// It returns LiteLLM's generation_name, the name the caller gave the call:
// the span's name instead of the operation's.
func contextAttrs(a *Attrs, body *requestBody, req Request) (generationName string) {
	md := body.metadata
	if req.Op.LiteLLMMetadata || !md.IsObject() {
		// LiteLLM's own member, on the APIs with a metadata of their own,
		// and wherever a client sends it instead of metadata.
		md = body.litellmMetadata
	}
	if !md.IsObject() {
		md = gjson.Result{}
	}
	userID := req.UserID
	if userID == "" {
		userID = md.Get("trace_user_id").Str
	}
	if userID == "" {
		userID = body.user.Str
	}
	if userID != "" {
		a.String(KeyUserID, userID)
	}
	session := req.SessionID
	if session == "" {
		session = md.Get("session_id").Str
	}
	if session != "" {
		a.String(KeySessionID, session)
	}
	tags := req.Tags
	md.Get("tags").ForEach(func(_, t gjson.Result) bool {
		if t.Type == gjson.String && t.Str != "" {
			tags = append(tags, t.Str)
		}
		return true
	})
	if len(tags) > 0 {
		a.kv = append(a.kv, attribute.StringSlice(KeyTagTags, tags))
	}
	if rest := withoutMembers(md, "session_id", "trace_user_id", "tags"); rest != "" {
		a.String(KeyMetadata, rest)
	} else if h := req.HeaderMetadata; h != "" && gjson.Valid(h) && gjson.Parse(h).IsObject() {
		a.String(KeyMetadata, withoutSecrets(h))
	}
	if g := md.Get("generation_name"); g.Type == gjson.String && len(g.Str) <= 200 {
		return g.Str
	}
	return ""
}

// withoutMembers is an object's JSON without the named members ("" when
// nothing else is left, or obj is no object); unchanged when it has none of
// them.
func withoutMembers(obj gjson.Result, names ...string) string {
	if !obj.IsObject() {
		return ""
	}
	out := []byte{'{'}
	dropped := false
	obj.ForEach(func(k, v gjson.Result) bool {
		if slices.Contains(names, k.Str) {
			dropped = true
			return true
		}
		out = openai.AppendMember(out, k, v)
		return true
	})
	switch {
	case !dropped:
		return obj.Raw
	case len(out) == 1:
		return ""
	}
	return string(append(out, '}'))
}

// SetMocked marks a call the proxy answered itself (LiteLLM's
// mock_response).
func (c *Call) SetMocked() {
	c.span.SetAttributes(attribute.Bool(KeyMocked, true))
}

// SetCallID records the id the client got in x-litellm-call-id.
func (c *Call) SetCallID(id string) {
	c.callID = id
	c.span.SetAttributes(attribute.String(KeyCallID, id))
}

// TraceResponse is the W3C traceresponse header naming the call's span, or
// "" when it has none (tracing off).
func (c *Call) TraceResponse() string {
	sc := c.span.SpanContext()
	if !sc.IsValid() {
		return ""
	}
	return "00-" + sc.TraceID().String() + "-" + sc.SpanID().String() + "-" + sc.TraceFlags().String()
}

// Model is the model the call was sent upstream for.
func (c *Call) Model() string { return c.req.Model }

// FirstToken marks the moment the first token reached the client.
func (c *Call) FirstToken() {
	c.firstAt = time.Now()
	c.span.AddEvent(EventFirstToken, trace.WithTimestamp(c.firstAt))
}

// Summary is what a log line says of a call, once it has ended.
type Summary struct {
	CallID                         string
	FirstToken                     time.Duration // 0 when no token came
	PromptTokens, CompletionTokens int64
}

// Summary reads the call's summary from what it recorded.
func (c *Call) Summary() Summary {
	s := Summary{CallID: c.callID}
	if !c.firstAt.IsZero() {
		s.FirstToken = c.firstAt.Sub(c.started)
	}
	for _, kv := range append(c.hdr[:len(c.hdr):len(c.hdr)], c.resp...) {
		switch kv.Key {
		case KeyTokenPrompt:
			s.PromptTokens = kv.Value.AsInt64()
		case KeyTokenCompletion:
			s.CompletionTokens = kv.Value.AsInt64()
		}
	}
	return s
}

// ResponseHeaders records what the operation reads of the answer's
// headers (Bedrock's token counts); call it before End.
func (c *Call) ResponseHeaders(h http.Header) {
	if c.req.Op.ResponseHeaders == nil || !c.span.IsRecording() {
		return
	}
	var a Attrs
	c.req.Op.ResponseHeaders(&a, h)
	c.hdr = a.KeyValues()
}

// ErrUnreadableAnswer is returned by Response for an answer that is not a
// JSON object: the client got it as it came, but it could not be traced.
var ErrUnreadableAnswer = errors.New("the answer is not a JSON object")

// Response records a successful response body: output.value, the output
// messages, the model and the token counts. An answer that is not a JSON
// object (or nests too deep to read safely) is kept as output.value text and
// reported as ErrUnreadableAnswer.
func (c *Call) Response(body []byte) error {
	if !c.span.IsRecording() {
		return nil // tracing is off: nothing to read the answer for
	}
	if !jsonbound.Valid(body) || !gjson.ParseBytes(body).IsObject() {
		if len(body) > 0 {
			c.resp = []attribute.KeyValue{attribute.String(KeyOutputValue, string(body))}
		}
		return ErrUnreadableAnswer
	}
	raw := string(body)
	resp := gjson.Parse(raw)
	a := Attrs{kv: make([]attribute.KeyValue, 0, 24)}
	a.String(KeyOutputValue, raw)
	a.String(KeyOutputMimeType, MimeJSON)
	c.req.Op.Response(&a, resp)
	c.resp = a.KeyValues()
	return nil
}

// UpstreamError records an error response from the provider the way the
// OpenAI Python SDK raises it: status ERROR, described as
// "NotFoundError: Error code: 404 - {…}", with an exception event. As in the
// SDK (_make_status_error_from_response), a body that is not JSON is the
// message on its own, and an empty one leaves "Error code: 404".
func (c *Call) UpstreamError(status int, body []byte) {
	if !c.span.IsRecording() {
		return
	}
	if c.req.Op.UpstreamError != nil {
		typ, msg, description := c.req.Op.UpstreamError(status, body)
		c.recordError(typ, msg, description)
		return
	}
	class := errorClass(status)
	msg := fmt.Sprintf("Error code: %d", status)
	switch b := bytes.TrimSpace(body); {
	case len(b) == 0:
	case jsonbound.Valid(b):
		msg += " - " + pythonRepr(b)
	default:
		msg = string(b)
	}
	c.recordError("openai."+class, msg, class+": "+msg)
}

// ClientLeft records that the client went away while the answer was under
// way: an event client_disconnected at that time, and no status, since the
// call itself did not fail (an SDK's break, a user pressing stop). The
// output that passed stays, as the instrumentor keeps it.
func (c *Call) ClientLeft() {
	c.span.AddEvent(EventClientDisconnected)
}

// TracingCut records that part of the answer reached the client but not
// the span (why: how much), as an event; the call's status is untouched.
func (c *Call) TracingCut(why string) {
	c.span.AddEvent(EventTracingCut, trace.WithAttributes(attribute.String(KeyTracingCutReason, why)))
}

// Fail records an error that is not the provider's answer: a transport
// failure, a timeout, a client that went away, a broken stream. kind names
// it in the exception event (e.g. "UpstreamTimeout").
func (c *Call) Fail(kind string, err error) {
	msg := err.Error()
	c.recordError(kind, msg, kind+": "+msg)
}

func (c *Call) recordError(typ, msg, description string) {
	msg, description = c.redaction.MaskString(msg), c.redaction.MaskString(description)
	c.span.AddEvent(EventException, trace.WithAttributes(
		attribute.String(KeyExceptionType, typ),
		attribute.String(KeyExceptionMessage, msg),
		attribute.String(KeyExceptionEscaped, "False"),
	))
	c.span.SetStatus(codes.Error, description)
}

// End ends the span; ok marks a call that succeeded.
func (c *Call) End(ok bool) {
	if c.span.IsRecording() {
		// The request's first, so that where both name a key the
		// response's wins; then what the configuration hides goes.
		kvs := append(append(c.requestAttrs(len(c.resp)+len(c.hdr)+1), c.hdr...), c.resp...)
		if c.req.BaseModel != "" && c.req.Op.Kind == KindLLM {
			// The configured base model wins over the answer's name for
			// the deployment.
			kvs = append(kvs, attribute.String(KeyLLMModelName, c.req.BaseModel))
		}
		c.span.SetAttributes(c.redaction.apply(kvs)...)
	}
	if ok {
		c.span.SetStatus(codes.Ok, "")
	}
	c.span.End(trace.WithTimestamp(time.Now()))
}

// errorClass is the OpenAI SDK's exception class for an HTTP status
// (openai/_client.py, _make_status_error).
func errorClass(status int) string {
	switch {
	case status == 400:
		return "BadRequestError"
	case status == 401:
		return "AuthenticationError"
	case status == 403:
		return "PermissionDeniedError"
	case status == 404:
		return "NotFoundError"
	case status == 409:
		return "ConflictError"
	case status == 422:
		return "UnprocessableEntityError"
	case status == 429:
		return "RateLimitError"
	case status >= 500:
		return "InternalServerError"
	}
	return "APIStatusError"
}
