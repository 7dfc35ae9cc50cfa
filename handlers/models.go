package handlers

import (
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/phoenixproxy/llmproxy/endpoint"
	"github.com/phoenixproxy/llmproxy/openai"
	"github.com/phoenixproxy/llmproxy/router"
)

// modelCreated is the created time LiteLLM's proxy gives every model it
// lists (DEFAULT_MODEL_CREATED_AT_TIME).
const modelCreated = 1677610602

// models answers GET /models: the config file's model_names in OpenAI's
// format, as LiteLLM's proxy lists them; without a file, the default
// upstream's own list, forwarded.
func (h *Handler) models(c *gin.Context) {
	if !h.router.Configured() {
		h.serveForwarded(c.Writer, c.Request, &endpoint.Passthrough)
		return
	}
	if !h.authorized(c.Writer, c.Request, writeOpenAIError) {
		return
	}
	type model struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		OwnedBy string `json:"owned_by"`
	}
	list := struct {
		Data   []model `json:"data"`
		Object string  `json:"object"`
	}{Data: []model{}, Object: "list"}
	for _, name := range h.router.Names() {
		list.Data = append(list.Data, model{ID: name, Object: "model", Created: modelCreated, OwnedBy: "openai"})
	}
	writeJSON(c.Writer, http.StatusOK, list)
}

// modelInfo answers GET /model/info as LiteLLM's proxy does: every
// deployment's model_name, litellm_params (never its key) and model_info;
// with ?litellm_model_id=, the one deployment with that id (404 if none).
func (h *Handler) modelInfo(c *gin.Context) {
	if !h.authorized(c.Writer, c.Request, writeOpenAIError) {
		return
	}
	type entry struct {
		ModelName     string         `json:"model_name"`
		LiteLLMParams map[string]any `json:"litellm_params"`
		ModelInfo     map[string]any `json:"model_info"`
	}
	describe := func(d *router.Deployment) entry {
		info := map[string]any{}
		for k, v := range d.Info {
			info[k] = v
		}
		info["id"] = d.ID
		info["db_model"] = false
		if d.BaseModel != "" {
			info["base_model"] = d.BaseModel
		}
		params := d.Params
		if params == nil {
			params = map[string]any{"model": d.Model}
		}
		return entry{ModelName: d.Group, LiteLLMParams: params, ModelInfo: info}
	}
	if id := c.Query("litellm_model_id"); id != "" {
		for _, d := range h.router.Deployments() {
			if d.ID == id {
				writeJSON(c.Writer, http.StatusOK, map[string]any{"data": describe(d)})
				return
			}
		}
		(&openai.Error{Status: http.StatusNotFound, Type: openai.TypeNotFound, Param: "litellm_model_id",
			Message: "Model id = " + id + " not found on litellm proxy"}).Write(c.Writer)
		return
	}
	data := []entry{}
	for _, d := range h.router.Deployments() {
		data = append(data, describe(d))
	}
	writeJSON(c.Writer, http.StatusOK, map[string]any{"data": data})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		(&openai.Error{Status: http.StatusInternalServerError, Type: openai.TypeProxy, Message: err.Error()}).Write(w)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
