package main

// http_openapi.go: GET sys/internal/specs/openapi, Vault's logical_system.go
// pathInternalOpenAPI: every mount is sent a "help" request for its root with
// requestResponsePrefix = its type, each plugin's document is decoded into the SDK's OAS
// structs (framework.NewOASDocumentFromMap, which is where a plugin's $ref members are
// lost) and merged under the mount's path. The attack suite validates this merged
// document, as a client generator would see it.

import (
	"net/http"
	"strings"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"
)

func (s *server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	doc := framework.NewOASDocument("dev-vault")
	for _, m := range s.mounts.list() {
		req := &logical.Request{
			ID:        uuid(),
			Operation: logical.HelpOperation,
			Path:      "",
			Storage:   m.view,
			Data:      map[string]interface{}{"requestResponsePrefix": m.entry.Type},
		}
		resp, err := m.backend.HandleRequest(r.Context(), req)
		if err != nil {
			logical.RespondError(w, http.StatusInternalServerError, err)
			return
		}
		if resp == nil {
			continue
		}
		raw, ok := resp.Data["openapi"].(map[string]interface{})
		if !ok {
			continue
		}
		bdoc, err := framework.NewOASDocumentFromMap(raw)
		if err != nil {
			logical.RespondError(w, http.StatusInternalServerError, err)
			return
		}
		for p, item := range bdoc.Paths {
			doc.Paths["/"+m.entry.Path+strings.TrimPrefix(p, "/")] = item
		}
		for name, schema := range bdoc.Components.Schemas {
			doc.Components.Schemas[name] = schema
		}
	}
	respondOk(w, doc)
}
