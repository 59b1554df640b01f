package main

import (
	"encoding/base64"
	"encoding/json"
	"net/http"

	gouuid "github.com/hashicorp/go-uuid"
	"github.com/hashicorp/vault/sdk/helper/errutil"
	"github.com/hashicorp/vault/sdk/logical"
)

func respondOk(w http.ResponseWriter, body interface{}) {
	w.Header().Set("Content-Type", "application/json")
	if body == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.WriteHeader(http.StatusOK)
	json.NewEncoder(w).Encode(body)
}

// respondRaw is http/logical.go respondRaw: the plugin chose status, type, body.
func respondRaw(w http.ResponseWriter, resp *logical.Response) {
	fail := func(msg string) {
		w.Header().Set("X-Vault-Raw-Error", msg)
		w.WriteHeader(http.StatusInternalServerError)
	}
	if resp.Secret != nil || resp.Auth != nil {
		fail("raw responses cannot contain secrets or auth")
		return
	}
	var status int
	switch v := resp.Data[logical.HTTPStatusCode].(type) {
	case int:
		status = v
	case float64:
		status = int(v)
	case json.Number:
		f, err := v.Float64()
		if err != nil {
			fail("cannot decode status code")
			return
		}
		status = int(f)
	default:
		fail("cannot decode status code")
		return
	}
	nonEmpty := status != http.StatusNoContent
	var ct string
	var body []byte
	ctRaw, ok := resp.Data[logical.HTTPContentType]
	if !ok && nonEmpty {
		fail("no content type given")
		return
	}
	if ok {
		if ct, ok = ctRaw.(string); !ok {
			fail("cannot decode content type")
			return
		}
	}
	if nonEmpty {
		switch b := resp.Data[logical.HTTPRawBody].(type) {
		case nil:
		case string:
			if dec, err := base64.StdEncoding.DecodeString(b); err == nil {
				body = dec
			} else {
				body = []byte(b)
			}
		case []byte:
			body = b
		default:
			fail("cannot decode body")
			return
		}
	}
	if ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	for key, hdr := range map[string]string{
		logical.HTTPCacheControlHeader: "Cache-Control", logical.HTTPPragmaHeader: "Pragma",
		logical.HTTPWWWAuthenticateHeader: "WWW-Authenticate",
	} {
		if v, ok := resp.Data[key].(string); ok {
			w.Header().Set(hdr, v)
		}
	}
	w.WriteHeader(status)
	w.Write(body)
}

func isUserError(err error) bool {
	switch err.(type) {
	case errutil.UserError, *errutil.UserError:
		return true
	}
	return false
}

func uuid() string {
	id, _ := gouuid.GenerateUUID()
	return id
}
