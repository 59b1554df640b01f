package main

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/vault/sdk/logical"
)

func TestBuildRequestMapping(t *testing.T) {
	cases := []struct {
		method, target, ctype, body string
		op                          logical.Operation
		path                        string
		data                        map[string]interface{}
		status                      int
	}{
		{"GET", "/v1/kv/a?x=1&y=2&y=3&help=", "", "", logical.ReadOperation, "kv/a",
			map[string]interface{}{"x": "1", "y": []string{"2", "3"}}, 0},
		{"GET", "/v1/kv/d?list=true", "", "", logical.ListOperation, "kv/d/", nil, 0},
		{"GET", "/v1/kv/d?list=maybe", "", "", "", "", nil, 400},
		{"LIST", "/v1/kv/d", "", "", logical.ListOperation, "kv/d/", nil, 0},
		{"DELETE", "/v1/kv/a?force=true", "", "", logical.DeleteOperation, "kv/a",
			map[string]interface{}{"force": "true"}, 0},
		{"PUT", "/v1/kv/a", "application/json", `{"n":1.50}`, logical.UpdateOperation, "kv/a",
			map[string]interface{}{"n": jsonNumber("1.50")}, 0},
		{"POST", "/v1/kv/a", "", "", logical.UpdateOperation, "kv/a", nil, 0},
		{"POST", "/v1/kv/a", "application/x-www-form-urlencoded", "t=a&t=b", logical.UpdateOperation, "kv/a",
			map[string]interface{}{"t": "a,b"}, 0},
		{"POST", "/v1/kv/a", "application/x-www-form-urlencoded", `{"t":1}`, logical.UpdateOperation, "kv/a",
			map[string]interface{}{"t": jsonNumber("1")}, 0},
		{"PUT", "/v1/kv/a", "", `[1]`, "", "", nil, 400},
		{"PATCH", "/v1/kv/a", "application/json", `{}`, "", "", nil, 415},
		{"PATCH", "/v1/kv/a", "application/merge-patch+json", `{"a":null}`, logical.PatchOperation, "kv/a",
			map[string]interface{}{"a": nil}, 0},
		{"BREW", "/v1/kv/a", "", "", "", "", nil, 405},
	}
	for _, c := range cases {
		r := httptest.NewRequest(c.method, c.target, strings.NewReader(c.body))
		if c.ctype != "" {
			r.Header.Set("Content-Type", c.ctype)
		}
		req, status, _ := buildRequest(r, strings.TrimPrefix(r.URL.Path, "/v1/"))
		if status != c.status {
			t.Errorf("%s %s: status %d, want %d", c.method, c.target, status, c.status)
			continue
		}
		if status != 0 {
			continue
		}
		if req.Operation != c.op || req.Path != c.path || !reflect.DeepEqual(req.Data, c.data) {
			t.Errorf("%s %s: got %s %q %#v", c.method, c.target, req.Operation, req.Path, req.Data)
		}
	}
}

func TestIdentities(t *testing.T) {
	f := filepath.Join(t.TempDir(), "e.json")
	os.WriteFile(f, []byte(`{"tok": {"entity_id": "e1", "name": "alice", "metadata": {"k": "v"}, "groups": ["g1"]}}`), 0o600)
	ids, err := loadIdentities(f)
	if err != nil {
		t.Fatal(err)
	}
	s := &server{ids: ids}
	req := &logical.Request{}
	s.authorize(req, "tok")
	if req.EntityID != "e1" || req.ClientToken == "tok" || req.ClientToken == "" {
		t.Fatalf("authorize: %+v", req)
	}
	e := ids.entity("e1")
	if e == nil || e.Name != "alice" || e.Metadata["k"] != "v" {
		t.Fatalf("entity: %v", e)
	}
	if g := ids.groups("e1"); len(g) != 1 || g[0].Name != "g1" {
		t.Fatalf("groups: %v", g)
	}
	root := &logical.Request{}
	s.authorize(root, "root")
	if root.EntityID != "" {
		t.Fatal("root token must have no entity")
	}
}

func TestMountMatch(t *testing.T) {
	mt := &mountTable{mounts: map[string]*mount{}}
	for _, p := range []string{"kv/", "kv2/", "a/b/"} {
		mt.mounts[p] = &mount{entry: mountEntry{Path: p}}
	}
	for in, want := range map[string][2]string{
		"kv/data/x": {"kv/", "data/x"}, "kv": {"kv/", ""}, "kv/kvx": {"kv/", "kvx"},
		"kv2/": {"kv2/", ""}, "a/b/c": {"a/b/", "c"}, "a/c": {"", ""}, "kv3/x": {"", ""},
	} {
		m, rel := mt.match(in)
		got := [2]string{"", rel}
		if m != nil {
			got[0] = m.entry.Path
		}
		if got != want {
			t.Errorf("match(%q) = %v, want %v", in, got, want)
		}
	}
}

func jsonNumber(s string) interface{} {
	var v map[string]interface{}
	decodeJSON(strings.NewReader(`{"n":`+s+`}`), &v)
	return v["n"]
}
