package main

// HTTP → logical.Request → plugin → HTTP, following Vault's http/logical.go,
// http/help.go and the core's request_handling.go step by step, and reusing the
// SDK's own status logic (logical.RespondErrorCommon) so codes match Vault.

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	multierror "github.com/hashicorp/go-multierror"
	"github.com/hashicorp/vault/sdk/helper/jsonutil"
	"github.com/hashicorp/vault/sdk/logical"
)

const maxRequestSize = 32 << 20 // Vault's default max_request_size

// buildRequest is buildLogicalRequestNoAuth: method → operation, query/body → data.
func buildRequest(r *http.Request, path string) (*logical.Request, int, error) {
	var data map[string]interface{}
	var op logical.Operation
	switch r.Method {
	case "DELETE":
		op, data = logical.DeleteOperation, parseQuery(r.URL.Query())
	case "GET":
		op = logical.ReadOperation
		q := r.URL.Query()
		if s := q.Get("list"); s != "" {
			list, err := strconv.ParseBool(s)
			if err != nil {
				return nil, http.StatusBadRequest, nil
			}
			if list {
				q.Del("list")
				op = logical.ListOperation
				if !strings.HasSuffix(path, "/") {
					path += "/"
				}
			}
		}
		data = parseQuery(q)
	case "POST", "PUT":
		op = logical.UpdateOperation
		body := bufio.NewReader(http.MaxBytesReader(nil, r.Body, maxRequestSize))
		head, err := body.Peek(512)
		if err != nil && err != bufio.ErrBufferFull && err != io.EOF {
			return nil, badRequestStatus(err), fmt.Errorf("error reading data")
		}
		if isForm(head, r.Header.Get("Content-Type")) {
			r.Body = io.NopCloser(body)
			if err := r.ParseForm(); err != nil {
				return nil, badRequestStatus(err), fmt.Errorf("error parsing form data")
			}
			data = formData(r.PostForm)
		} else if err := decodeJSON(body, &data); err != nil {
			return nil, badRequestStatus(err), fmt.Errorf("error parsing JSON: %w", err)
		}
	case "PATCH":
		op = logical.PatchOperation
		ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil {
			return nil, badRequestStatus(err), err
		}
		if ct != "application/merge-patch+json" {
			return nil, http.StatusUnsupportedMediaType, fmt.Errorf("PATCH requires Content-Type of application/merge-patch+json, provided %s", ct)
		}
		if err := decodeJSON(http.MaxBytesReader(nil, r.Body, maxRequestSize), &data); err != nil {
			return nil, badRequestStatus(err), fmt.Errorf("error parsing JSON")
		}
	case "LIST":
		op = logical.ListOperation
		if !strings.HasSuffix(path, "/") {
			path += "/"
		}
		data = parseQuery(r.URL.Query())
	case "HEAD":
		op, data = logical.HeaderOperation, parseQuery(r.URL.Query())
	default:
		return nil, http.StatusMethodNotAllowed, nil
	}
	return &logical.Request{
		ID: uuid(), Operation: op, Path: path, Data: data, Connection: connection(r),
	}, 0, nil
}

// decodeJSON keeps numbers literal (UseNumber); an empty body is no data.
func decodeJSON(r io.Reader, out *map[string]interface{}) error {
	err := jsonutil.DecodeJSONFromReader(r, out)
	if err == io.EOF {
		*out = nil
		return nil
	}
	if err != nil {
		return fmt.Errorf("failed to parse JSON input: %w", err)
	}
	return nil
}

func badRequestStatus(err error) int {
	status := http.StatusBadRequest
	logical.AdjustErrorStatusCode(&status, err)
	return status
}

func parseQuery(values url.Values) map[string]interface{} {
	data := map[string]interface{}{}
	for k, v := range values {
		if k == "help" { // reserved parameter
			continue
		}
		switch len(v) {
		case 0:
		case 1:
			data[k] = v[0]
		default:
			data[k] = v
		}
	}
	if len(data) > 0 {
		return data
	}
	return nil
}

func formData(form url.Values) map[string]interface{} {
	if len(form) == 0 {
		return nil
	}
	data := make(map[string]interface{}, len(form))
	for k, v := range form {
		switch len(v) {
		case 0:
		case 1:
			data[k] = v[0]
		default: // Vault joins repeated form fields with commas
			data[k] = strings.Join(v, ",")
		}
	}
	return data
}

func isForm(head []byte, contentType string) bool {
	ct, _, err := mime.ParseMediaType(contentType)
	if err != nil || ct != "application/x-www-form-urlencoded" {
		return false
	}
	for _, c := range head {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case '[', '{':
			return false
		default:
			return true
		}
	}
	return true
}

func connection(r *http.Request) *logical.Connection {
	host, port, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return &logical.Connection{}
	}
	p, _ := strconv.Atoi(port)
	return &logical.Connection{RemoteAddr: host, RemotePort: p, ConnState: r.TLS}
}

// authorize stamps the token's identity on the request (the dev host has no ACLs).
func (s *server) authorize(req *logical.Request, token string) {
	salted := sha256.Sum256([]byte("dev-vault-salt:" + token))
	acc := sha256.Sum256([]byte("dev-vault-accessor:" + token))
	req.ClientToken = hex.EncodeToString(salted[:])
	req.ClientTokenAccessor = hex.EncodeToString(acc[:12])
	req.DisplayName = "root"
	if id := s.ids.byToken[token]; id != nil {
		req.EntityID = id.EntityID
		req.DisplayName = "token-" + id.Name
	}
}

// handleLogical serves /v1/<mount>/<path> for the plugin mounts.
func (s *server) handleLogical(w http.ResponseWriter, r *http.Request, path, token string) {
	if v := r.URL.Query().Get("help"); v != "" || r.Method == "HELP" {
		s.handleHelp(w, r, path, token)
		return
	}
	req, status, err := buildRequest(r, path)
	if err != nil || status != 0 {
		logical.RespondError(w, status, err)
		return
	}
	s.authorize(req, token)
	resp, err := s.route(r.Context(), req)
	if respondErrorCommon(w, req, resp, err) {
		return
	}
	respondLogical(w, r, req, resp)
}

// route is the core's handleRequest for one mount: refuse writes to "dir/"
// paths, run the existence check for POST/PUT, call the plugin, fold the
// plugin's error into a multierror as the core does.
func (s *server) route(ctx context.Context, req *logical.Request) (*logical.Response, error) {
	m, rel := s.mounts.match(req.Path)
	if m == nil || m.backend == nil {
		why := "route entry not found"
		if m != nil {
			why = "route entry found, but backend is nil"
		}
		return logical.ErrorResponse(fmt.Sprintf("no handler for route %q. %s.", req.Path, why)), logical.ErrUnsupportedPath
	}
	req.Path, req.MountPoint, req.MountType = rel, m.entry.Path, m.entry.Type
	req.Storage = m.view
	if strings.HasSuffix(req.Path, "/") && (req.Operation == logical.UpdateOperation ||
		req.Operation == logical.CreateOperation || req.Operation == logical.PatchOperation) {
		return logical.ErrorResponse("cannot write to a path ending in '/'"), nil
	}
	if req.Operation == logical.UpdateOperation {
		op, err := s.existenceCheck(ctx, m, req)
		if err != nil {
			return nil, multierror.Append(nil, err)
		}
		req.Operation = op
	}
	// The router fills mount_accessor only after a first trip; Vault's quirk kept.
	resp, err := m.backend.HandleRequest(ctx, req)
	if resp != nil {
		resp.MountType = m.entry.Type
	}
	if err != nil {
		return resp, multierror.Append(nil, err)
	}
	return resp, nil
}

// existenceCheck decides create vs update. As in Vault's CheckToken, its
// errors do not reach the client: a user error becomes "invalid request"
// (400), anything else "internal error" (500).
func (s *server) existenceCheck(ctx context.Context, m *mount, req *logical.Request) (logical.Operation, error) {
	found, exists, err := m.backend.HandleExistenceCheck(ctx, req)
	switch {
	case err == logical.ErrUnsupportedPath:
		found = false // fails later with a clean 404
	case err != nil && isUserError(err):
		s.logger.Error("failed to run existence check", "error", err)
		return "", logical.ErrInvalidRequest
	case err != nil:
		s.logger.Error("failed to run existence check", "error", err)
		return "", errors.New("internal error")
	}
	if found && !exists {
		return logical.CreateOperation, nil
	}
	return logical.UpdateOperation, nil
}

// handleHelp is http/help.go: the reply body is the response data itself.
func (s *server) handleHelp(w http.ResponseWriter, r *http.Request, path, token string) {
	req := &logical.Request{ID: uuid(), Operation: logical.HelpOperation, Path: path, Connection: connection(r)}
	s.authorize(req, token)
	resp, err := s.route(r.Context(), req)
	if err != nil {
		respondErrorCommon(w, req, resp, err)
		return
	}
	if resp == nil { // Vault would dereference nil here; answer like its panic recovery
		logical.RespondError(w, http.StatusInternalServerError, errors.New("internal error"))
		return
	}
	respondOk(w, resp.Data)
}

func respondErrorCommon(w http.ResponseWriter, req *logical.Request, resp *logical.Response, err error) bool {
	status, newErr := logical.RespondErrorCommon(req, resp, err)
	if newErr == nil && status == 0 {
		return false
	}
	if resp != nil {
		if data := resp.Data["data"]; data != nil {
			logical.RespondErrorAndData(w, status, data, newErr)
			return true
		}
	}
	logical.RespondError(w, status, newErr)
	return true
}

func respondLogical(w http.ResponseWriter, r *http.Request, req *logical.Request, resp *logical.Response) {
	var body interface{}
	if resp != nil {
		if resp.Redirect != "" {
			http.Redirect(w, r, resp.Redirect, http.StatusTemporaryRedirect)
			return
		}
		if _, ok := resp.Data[logical.HTTPStatusCode]; ok {
			respondRaw(w, resp)
			return
		}
		h := logical.LogicalResponseToHTTPResponse(resp)
		h.RequestID = req.ID
		body = h
	}
	respondOk(w, body)
}
