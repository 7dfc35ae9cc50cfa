package spans

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
	"unsafe"

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
	// attrs holds the slices End builds a span's attributes in: the SDK
	// copies what SetAttributes gets, so one slice serves call after call.
	attrs *sync.Pool
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
	r := &Recorder{tracer: tp.Tracer(tracerName), redaction: red,
		attrs: &sync.Pool{New: func() any { return &Attrs{kv: make([]attribute.KeyValue, 0, 64)} }}}
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
	// KeepBody says Body (and any body Retarget gives) is never written
	// again, not even after End: the span records it without a copy and
	// holds it until it is exported.
	KeepBody bool
	// Index, when set, is the index of Body the handler made as it checked
	// it (jsonbound.CheckIndex): End maps a large body through it rather
	// than index it again, and ExplicitContext reads through it. It is used
	// only if it indexes Body itself, and must stay valid until End.
	Index *jsonbound.Ends
	// SessionID, UserID and Tags come from the x-session-id, x-user-id and
	// x-tags headers (or LiteLLM's x-litellm-session-id, x-litellm-tags);
	// empty when absent. HeaderMetadata is LiteLLM's
	// x-litellm-spend-logs-metadata header, a JSON object.
	SessionID, UserID string
	Tags              []string
	HeaderMetadata    string
	// ClientSessionID and ClientUserID are what the call's client names, or
	// what the proxy inferred (package sessions): session.id and user.id
	// when LiteLLM's headers and fields name none. SetClientContext sets
	// them once the call is known.
	ClientSessionID, ClientUserID string
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
	attrs     *sync.Pool // the Recorder's
	started   time.Time
	firstAt   time.Time // when the first token reached the client
	callID    string
	mocked    bool
	// pooledResp is the pooled slice resp was built in, if it was.
	pooledResp *Attrs
	// tokens are the prompt and completion token counts, noted by End.
	tokens [2]int64
	// deployment holds SetDeployment's attributes until End.
	deployment []attribute.KeyValue
	// resp holds the response's attributes until End sets them after the
	// request's, so that where both name a key (the tools of a Responses
	// call) the response's wins, as in the instrumentor; hdr those read
	// from the answer's headers, which the body's win over.
	resp, hdr []attribute.KeyValue
}

// Start starts the span of a call as a child of whatever span ctx carries
// (the caller's traceparent). Its attributes are all set when the call
// ends, in one SetAttributes (the SDK grows its copy once): those read from
// the request's body are built after the answer has gone out, so the
// client never waits for them. req.Body must stay unchanged until End.
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
	if limited && span.IsRecording() {
		span.AddEvent(EventProjectLimit, trace.WithAttributes(attribute.String(KeyProjectName, req.Project)))
	}
	return ctx, &Call{span: span, req: req, redaction: r.redaction, attrs: r.attrs, started: time.Now()}
}

// targetAttrs are the attributes that need no parsing: the span kind, and
// the upstream the call went to (Retarget's when it moved).
func (c *Call) targetAttrs(a *Attrs) {
	req := &c.req
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
	c.deployment = kv
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

// requestAttrs adds the attributes read from the body of the request that
// started the call.
func (c *Call) requestAttrs(a *Attrs) {
	req := c.req
	// One copy of the body: the attribute and the parsed values share it.
	// Credentials a client put in the body never reach the span.
	src := unsafe.String(unsafe.SliceData(req.Body), len(req.Body))
	if !req.KeepBody {
		src = string(req.Body)
	}
	raw := bodyText(src, req.Body, req.Index)
	if obj := gjson.Parse(raw); obj.IsObject() {
		if len(raw) >= IndexFrom {
			// The handler's index of the body serves raw if raw is the
			// body's text: no secret was taken out of it.
			if unsafe.StringData(raw) == unsafe.StringData(src) && req.Index.Indexes(req.Body) {
				a.useIndex(req.Index.For(raw))
			} else {
				a.index(raw)
			}
		}
		a.String(KeyInputValue, raw)
		a.String(KeyInputMimeType, MimeJSON)
		// In the pooled Attrs: a requestBody of its own would escape to
		// the heap through the operation's function value.
		body := &a.body
		*body = readRequest(a, obj, req.Op.Drop...)
		if !body.model.Exists() {
			body.pathModel = req.Model
		}
		if req.Op.ParamsKey != "" {
			a.String(req.Op.ParamsKey, body.params)
		}
		req.Op.Request(a, body)
		if name := contextAttrs(a, body, req); name != "" {
			c.span.SetName(name)
		}
	}
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
	md := liteLLMMetadata(req.Op, body.metadata, body.litellmMetadata)
	userID := req.UserID
	if userID == "" {
		userID = a.get(md, "trace_user_id").Str
	}
	if userID == "" {
		userID = body.user.Str
	}
	if userID == "" {
		userID = req.ClientUserID
	}
	if userID != "" {
		a.String(KeyUserID, userID)
	}
	session := req.SessionID
	if session == "" {
		session = a.get(md, "session_id").Str
	}
	if session == "" {
		session = req.ClientSessionID
	}
	if session != "" {
		a.String(KeySessionID, session)
	}
	tags := req.Tags
	a.forEach(a.get(md, "tags"), func(_, t gjson.Result) bool {
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
	if g := a.get(md, "generation_name"); g.Type == gjson.String && len(g.Str) <= 200 {
		return g.Str
	}
	return ""
}

// liteLLMMetadata is the member of a request that holds LiteLLM's
// metadata: litellm_metadata on the APIs with a metadata of their own, and
// wherever a client sends it instead of metadata; else metadata. It is an
// object, or nothing.
func liteLLMMetadata(op *Operation, metadata, litellm gjson.Result) gjson.Result {
	md := metadata
	if op.LiteLLMMetadata || !md.IsObject() {
		md = litellm
	}
	if !md.IsObject() {
		return gjson.Result{}
	}
	return md
}

// ExplicitContext is the session and user the call names in LiteLLM's own
// headers and fields, as its span records them ("" for what it does not
// name): the x-session-id and x-user-id headers, then the metadata's
// session_id and trace_user_id, then the body's user.
func (c *Call) ExplicitContext() (session, user string) {
	session, user = c.req.SessionID, c.req.UserID
	if session != "" && user != "" {
		return session, user
	}
	// One pass over the body's members (each gjson.Get would be one), the
	// first of each as Get reads it, jumping over the history through the
	// handler's index when it indexes this body (jsonbound.Ends.ForEach
	// checks); the body is read where it lies and what is kept of it
	// cloned.
	var f [3]gjson.Result
	c.req.Index.ForEach(jsonbound.ParseInPlace(c.req.Body), func(k, v gjson.Result) bool {
		i := -1
		switch k.Str {
		case "metadata":
			i = 0
		case "litellm_metadata":
			i = 1
		case "user":
			i = 2
		}
		if i >= 0 && !f[i].Exists() {
			f[i] = v
		}
		return true
	})
	md := liteLLMMetadata(c.req.Op, f[0], f[1])
	if session == "" {
		session = strings.Clone(jsonbound.Get(md, "session_id").Str)
	}
	if user == "" {
		user = strings.Clone(jsonbound.Get(md, "trace_user_id").Str)
	}
	if user == "" {
		user = strings.Clone(f[2].Str)
	}
	return session, user
}

// SetClientContext sets the session and user the call's client names, or
// the proxy inferred: they count where LiteLLM's name none. Call it before
// End.
func (c *Call) SetClientContext(session, user string) {
	c.req.ClientSessionID, c.req.ClientUserID = session, user
}

// Recording reports whether the call's span records anything (tracing is
// on, and the call sampled).
func (c *Call) Recording() bool { return c.span.IsRecording() }

// Output is the answer the call's span recorded as output.value (the
// client's dialect, for a stream the answer it added up to), or "".
func (c *Call) Output() string {
	for _, kv := range c.resp {
		if kv.Key == KeyOutputValue {
			return kv.Value.AsString()
		}
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
	jsonbound.ForEach(obj, func(k, v gjson.Result) bool {
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
func (c *Call) SetMocked() { c.mocked = true }

// SetCallID records the id the client got in x-litellm-call-id.
func (c *Call) SetCallID(id string) { c.callID = id }

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

// Summary is the call's summary, read from what it recorded: call it once
// the call has ended.
func (c *Call) Summary() Summary {
	s := Summary{CallID: c.callID, PromptTokens: c.tokens[0], CompletionTokens: c.tokens[1]}
	if !c.firstAt.IsZero() {
		s.FirstToken = c.firstAt.Sub(c.started)
	}
	return s
}

// countTokens notes the token counts the answer gave, for Summary.
func (c *Call) countTokens() {
	for _, kvs := range [...][]attribute.KeyValue{c.hdr, c.resp} {
		for _, kv := range kvs {
			switch kv.Key {
			case KeyTokenPrompt:
				c.tokens[0] = kv.Value.AsInt64()
			case KeyTokenCompletion:
				c.tokens[1] = kv.Value.AsInt64()
			}
		}
	}
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
	// One copy of the answer: the attribute and the parsed values share it.
	raw := string(body)
	resp := gjson.Parse(raw)
	if !jsonbound.Valid(body) || !resp.IsObject() {
		if len(body) > 0 {
			c.resp = []attribute.KeyValue{attribute.String(KeyOutputValue, raw)}
		}
		return ErrUnreadableAnswer
	}
	// The answer's attributes wait for End in a slice of the Recorder's,
	// which End gives back.
	a := c.attrs.Get().(*Attrs)
	a.String(KeyOutputValue, raw)
	a.String(KeyOutputMimeType, MimeJSON)
	c.req.Op.Response(a, resp)
	c.resp, c.pooledResp = a.kv, a
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
		// response's wins (the SDK keeps a key's last value); then what
		// the configuration hides goes.
		a := c.attrs.Get().(*Attrs)
		c.targetAttrs(a)
		a.kv = append(a.kv, c.deployment...)
		if c.callID != "" {
			a.String(KeyCallID, c.callID)
		}
		if c.mocked {
			a.kv = append(a.kv, attribute.Bool(KeyMocked, true))
		}
		c.requestAttrs(a)
		a.kv = append(append(a.kv, c.hdr...), c.resp...)
		if c.req.BaseModel != "" && c.req.Op.Kind == KindLLM {
			// The configured base model wins over the answer's name for
			// the deployment.
			a.String(KeyLLMModelName, c.req.BaseModel)
		}
		c.span.SetAttributes(c.redaction.apply(a.kv)...)
		// The pooled slice keeps no call's strings alive.
		c.release(a)
		c.countTokens()
		if c.pooledResp != nil {
			c.pooledResp.kv = c.resp // grown, maybe, by the operation
			c.resp = nil
			c.release(c.pooledResp)
		}
	}
	if ok {
		c.span.SetStatus(codes.Ok, "")
	}
	c.span.End() // the SDK stamps the time
}

// maxPooledAttrs bounds the attributes a pooled Attrs keeps room for: a
// chat call's few dozen and then some.
const maxPooledAttrs = 512

// release gives a slice of attributes back to the Recorder's pool, its
// values cleared: the pool keeps no call's strings alive.
func (c *Call) release(a *Attrs) {
	clear(a.kv)
	a.kv = a.kv[:0]
	a.body = requestBody{}
	a.ends.Reset()
	a.idx = nil
	if cap(a.kv) > maxPooledAttrs {
		// An agent's call: thousands of attributes, which the span now
		// holds a copy of. Pooled, the slice would stay beside it (and
		// beside every later span) as a copy nobody reads.
		*a = Attrs{}
	}
	c.attrs.Put(a)
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
