package handlers

import (
	"github.com/phoenixproxy/llmproxy/endpoint"
	"github.com/phoenixproxy/llmproxy/sessions"
)

// conversational are the APIs whose calls carry a conversation's history,
// and how package sessions reads it.
var conversational = map[*endpoint.Spec]*sessions.Dialect{
	&endpoint.Chat:                        &sessions.Chat,
	&endpoint.Responses:                   &sessions.Responses,
	&endpoint.Messages:                    &sessions.Messages,
	&endpoint.VertexRawPredict:            &sessions.Messages,
	&endpoint.GenerateContent:             &sessions.Gemini,
	&endpoint.StreamGenerateContent:       &sessions.Gemini,
	&endpoint.VertexGenerateContent:       &sessions.Gemini,
	&endpoint.VertexStreamGenerateContent: &sessions.Gemini,
	&endpoint.BedrockConverse:             &sessions.Converse,
	&endpoint.BedrockConverseStream:       &sessions.Converse,
}

// identify puts the call's session and user on its span, once its answer
// has gone out (ok: a whole answer reached the client): those its LiteLLM
// fields name, else its client's, else those package sessions infers, which
// then remembers the answer for the call that continues it.
func (c *modelCall) identify(ok bool) {
	if !c.span.Recording() {
		return
	}
	var answer string
	if ok {
		answer = c.span.Output()
	}
	session, user := c.span.ExplicitContext()
	id := c.h.sessions.Identify(c.r.Context(), sessions.Call{
		Dialect: conversational[c.spec], Header: c.r.Header, Body: c.body, Index: c.ends,
		Session: session, User: user,
	}, answer)
	c.span.SetClientContext(id.Session, id.User)
}
