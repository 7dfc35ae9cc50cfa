package spans

import (
	"encoding/base64"
	"encoding/binary"
	"math"

	"github.com/tidwall/gjson"
	"go.opentelemetry.io/otel/attribute"
)

// Embeddings maps /embeddings onto an EMBEDDING span.
var Embeddings = Operation{
	Name:      NameCreateEmbeddings,
	Kind:      KindEmbedding,
	ParamsKey: KeyEmbeddingInvocationParameters,
	Drop:      []string{"input"},
	Request:   embeddingRequest,
	Response:  embeddingResponse,
}

func embeddingRequest(a *Attrs, req *requestBody) {
	for i, text := range textInputs(req.input) {
		a.String(indexed(KeyEmbeddingEmbeddings, i, SuffixEmbeddingText), text)
	}
}

func embeddingResponse(a *Attrs, resp gjson.Result) {
	a.stringIf(KeyEmbeddingModelName, a.get(resp, "model"))
	pos := 0
	a.forEach(a.get(resp, "data"), func(_, item gjson.Result) bool {
		if vec := embeddingVector(a.get(item, "embedding")); vec != nil {
			a.kv = append(a.kv, attribute.Float64Slice(indexed(KeyEmbeddingEmbeddings, listIndex(item, pos), SuffixEmbeddingVector), vec))
		}
		pos++
		return true
	})
	usage := a.get(resp, "usage")
	a.intIf(KeyTokenTotal, a.get(usage, "total_tokens"))
	a.intIf(KeyTokenPrompt, a.get(usage, "prompt_tokens"))
}

// embeddingVector reads a vector as the API returns it: a list of floats, or
// (encoding_format "base64") little-endian float32s in base64.
func embeddingVector(v gjson.Result) []float64 {
	switch {
	case v.IsArray():
		items := v.Array()
		vec := make([]float64, len(items))
		for i, x := range items {
			vec[i] = x.Float()
		}
		return vec
	case v.Type == gjson.String:
		raw, err := base64.StdEncoding.DecodeString(v.Str)
		if err != nil || len(raw)%4 != 0 {
			return nil
		}
		vec := make([]float64, len(raw)/4)
		for i := range vec {
			vec[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])))
		}
		return vec
	}
	return nil
}
