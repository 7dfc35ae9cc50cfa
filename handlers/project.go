package handlers

import (
	"fmt"
	"net/http"
	"unicode"
	"unicode/utf8"

	"github.com/phoenixproxy/llmproxy/openai"
)

// maxProjectName bounds a Phoenix project name a call may give.
const maxProjectName = 200

// project is the Phoenix project a call asks its span to go to: the
// x-phoenix-project-name header, else the body's phoenix_project_name ("":
// the default project). A name must match the configured pattern when
// there is one, and with a master key there must be one: callers cannot
// scatter spans over projects at will.
func (h *Handler) project(hdr http.Header, fromBody string) (string, *openai.Error) {
	name := hdr.Get("X-Phoenix-Project-Name")
	if name == "" {
		name = fromBody
	}
	if name == "" {
		return "", nil
	}
	if len(name) > maxProjectName || !utf8.ValidString(name) || !printable(name) {
		return "", &openai.Error{Status: http.StatusBadRequest, Type: openai.TypeInvalidRequest, Param: "phoenix_project_name",
			Message: fmt.Sprintf("Phoenix project name must be printable UTF-8 of at most %d bytes.", maxProjectName)}
	}
	if h.projectPattern != nil && !h.projectPattern.MatchString(name) || h.masterKey != nil && h.projectPattern == nil {
		return "", &openai.Error{Status: http.StatusForbidden, Type: "permission_error", Param: "phoenix_project_name",
			Message: fmt.Sprintf("Phoenix project %q is not allowed: project names must match PHOENIX_PROJECT_PATTERN (with a master key, it must be set).", name)}
	}
	return name, nil
}

func printable(s string) bool {
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}
