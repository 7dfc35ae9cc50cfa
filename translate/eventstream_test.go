package translate

import (
	"bytes"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
)

// esMessage is one AWS event-stream message as Bedrock sends it: of
// :message-type kind ("event", "exception"), its :event-type or
// :exception-type name, a JSON payload.
func esMessage(t testing.TB, kind, name string, payload []byte) []byte {
	t.Helper()
	h := eventstream.Headers{{Name: ":message-type", Value: eventstream.StringValue(kind)}}
	switch kind {
	case "event":
		h = append(h, eventstream.Header{Name: ":event-type", Value: eventstream.StringValue(name)})
	case "exception":
		h = append(h, eventstream.Header{Name: ":exception-type", Value: eventstream.StringValue(name)})
	}
	h = append(h, eventstream.Header{Name: ":content-type", Value: eventstream.StringValue("application/json")})
	var b bytes.Buffer
	if err := eventstream.NewEncoder().Encode(&b, eventstream.Message{Headers: h, Payload: payload}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
