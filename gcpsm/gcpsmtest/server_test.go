package gcpsmtest_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	secretmanager "cloud.google.com/go/secretmanager/apiv1"
	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"google.golang.org/api/iterator"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/tokenstore-go/tokenstore/gcpsm/gcpsmtest"
)

type env struct {
	t   *testing.T
	ctx context.Context
	srv *gcpsmtest.Server
	c   *secretmanager.Client
}

func newEnv(t *testing.T) *env {
	srv, err := gcpsmtest.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	c, err := srv.NewClient(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &env{t, t.Context(), srv, c}
}

var automatic = &secretmanagerpb.Replication{Replication: &secretmanagerpb.Replication_Automatic_{Automatic: &secretmanagerpb.Replication_Automatic{}}}

func (e *env) create(parent, id string, labels map[string]string) (*secretmanagerpb.Secret, error) {
	s := &secretmanagerpb.Secret{Labels: labels}
	if !strings.Contains(parent, "/locations/") {
		s.Replication = automatic
	}
	return e.c.CreateSecret(e.ctx, &secretmanagerpb.CreateSecretRequest{Parent: parent, SecretId: id, Secret: s})
}

func (e *env) mustCreate(parent, id string, labels map[string]string) *secretmanagerpb.Secret {
	e.t.Helper()
	s, err := e.create(parent, id, labels)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func (e *env) add(secret, data string) (*secretmanagerpb.SecretVersion, error) {
	return e.c.AddSecretVersion(e.ctx, &secretmanagerpb.AddSecretVersionRequest{Parent: secret, Payload: &secretmanagerpb.SecretPayload{Data: []byte(data)}})
}

func (e *env) access(name string) (string, error) {
	r, err := e.c.AccessSecretVersion(e.ctx, &secretmanagerpb.AccessSecretVersionRequest{Name: name})
	if err != nil {
		return "", err
	}
	return r.Name + "=" + string(r.Payload.Data), nil
}

func wantCode(t *testing.T, what string, err error, want codes.Code) {
	t.Helper()
	if got := status.Code(err); got != want {
		t.Errorf("%s: code %v (%v), want %v", what, got, err, want)
	}
}

// number is the project number the fake gives project "p".
func (e *env) number() string {
	s := e.mustCreate("projects/p", "numbered", nil)
	return strings.Split(s.Name, "/")[1]
}

func TestSecretIDs(t *testing.T) {
	e := newEnv(t)
	for _, id := range []string{"a", "A-z_0-9", strings.Repeat("x", 255)} {
		if _, err := e.create("projects/p", id, nil); err != nil {
			t.Errorf("CreateSecret(%q): %v", id, err)
		}
	}
	for _, id := range []string{"", "a/b", "a.b", "a b", "é", strings.Repeat("x", 256)} {
		_, err := e.create("projects/p", id, nil)
		wantCode(t, fmt.Sprintf("CreateSecret(%q)", id), err, codes.InvalidArgument)
	}
	_, err := e.create("projects/p", "a", nil)
	wantCode(t, "CreateSecret of an existing ID", err, codes.AlreadyExists)
	_, err = e.c.GetSecret(e.ctx, &secretmanagerpb.GetSecretRequest{Name: "projects/p/secrets/missing"})
	wantCode(t, "GetSecret(missing)", err, codes.NotFound)
	err = e.c.DeleteSecret(e.ctx, &secretmanagerpb.DeleteSecretRequest{Name: "projects/p/secrets/missing"})
	wantCode(t, "DeleteSecret(missing)", err, codes.NotFound)
	_, err = e.c.CreateSecret(e.ctx, &secretmanagerpb.CreateSecretRequest{Parent: "projects/p", SecretId: "norepl", Secret: &secretmanagerpb.Secret{}})
	wantCode(t, "global CreateSecret without replication", err, codes.InvalidArgument)
	_, err = e.c.CreateSecret(e.ctx, &secretmanagerpb.CreateSecretRequest{Parent: "projects/p/locations/us-east1", SecretId: "repl", Secret: &secretmanagerpb.Secret{Replication: automatic}})
	wantCode(t, "regional CreateSecret with replication", err, codes.InvalidArgument)
}

func TestLabelRules(t *testing.T) {
	e := newEnv(t)
	many := func(n int) map[string]string {
		m := make(map[string]string, n)
		for i := range n {
			m[fmt.Sprintf("k%d", i)] = "v"
		}
		return m
	}
	for i, l := range []map[string]string{
		{"env": "prod"},
		{"a": ""},
		{"k_-9": "v_-9"},
		{"ü": "日本語", "ключ": "значение"},
		{strings.Repeat("k", 63): strings.Repeat("v", 63)},
		many(64),
	} {
		if _, err := e.create("projects/p", fmt.Sprint("ok", i), l); err != nil {
			t.Errorf("labels %v: %v", l, err)
		}
	}
	for i, l := range []map[string]string{
		{"Env": "prod"},
		{"env": "Prod"},
		{"1env": "x"},
		{"_env": "x"},
		{"": "x"},
		{"env": "a@b.c"},
		{"env": "a b"},
		{"e.v": "x"},
		{strings.Repeat("k", 64): "x"},
		{"k": strings.Repeat("v", 64)},
		many(65),
	} {
		_, err := e.create("projects/p", fmt.Sprint("bad", i), l)
		wantCode(t, fmt.Sprintf("labels %.60v", l), err, codes.InvalidArgument)
	}
}

func TestVersions(t *testing.T) {
	e := newEnv(t)
	s := e.mustCreate("projects/p", "s", nil)
	prefix := s.Name + "/versions/"
	_, err := e.access(prefix + "latest")
	wantCode(t, "access latest of a secret without versions", err, codes.NotFound)
	for i := 1; i <= 3; i++ {
		v, err := e.add(s.Name, fmt.Sprint("v", i))
		if err != nil || v.Name != fmt.Sprint(prefix, i) || v.State != secretmanagerpb.SecretVersion_ENABLED {
			t.Fatalf("AddSecretVersion = %v, %v; want version %d, enabled", v, err, i)
		}
	}
	if got, err := e.access(prefix + "latest"); err != nil || got != prefix+"3=v3" {
		t.Errorf("access latest = %q, %v", got, err)
	}
	if _, err := e.c.DisableSecretVersion(e.ctx, &secretmanagerpb.DisableSecretVersionRequest{Name: prefix + "3"}); err != nil {
		t.Fatal(err)
	}
	// latest is the newest version whatever its state.
	_, err = e.access(prefix + "latest")
	wantCode(t, "access latest when it is disabled", err, codes.FailedPrecondition)
	_, err = e.access(prefix + "3")
	wantCode(t, "access a disabled version", err, codes.FailedPrecondition)
	if _, err := e.c.DestroySecretVersion(e.ctx, &secretmanagerpb.DestroySecretVersionRequest{Name: prefix + "2"}); err != nil {
		t.Fatal(err)
	}
	_, err = e.access(prefix + "2")
	wantCode(t, "access a destroyed version", err, codes.FailedPrecondition)
	_, err = e.c.EnableSecretVersion(e.ctx, &secretmanagerpb.EnableSecretVersionRequest{Name: prefix + "2"})
	wantCode(t, "enable a destroyed version", err, codes.FailedPrecondition)
	_, err = e.c.DestroySecretVersion(e.ctx, &secretmanagerpb.DestroySecretVersionRequest{Name: prefix + "2"})
	wantCode(t, "destroy a destroyed version", err, codes.FailedPrecondition)
	if v, err := e.add(s.Name, "v4"); err != nil || v.Name != prefix+"4" {
		t.Errorf("AddSecretVersion after a destroy = %v, %v; want version 4: numbers are never reused", v, err)
	}
	if got, err := e.access(prefix + "1"); err != nil || got != prefix+"1=v1" {
		t.Errorf("access version 1 = %q, %v", got, err)
	}
	_, err = e.access(prefix + "9")
	wantCode(t, "access a version that does not exist", err, codes.NotFound)
	// Listing: newest first, with a state filter.
	var listed []string
	it := e.c.ListSecretVersions(e.ctx, &secretmanagerpb.ListSecretVersionsRequest{Parent: s.Name, Filter: "state:ENABLED"})
	for {
		v, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		listed = append(listed, v.Name[len(prefix):])
	}
	if !slices.Equal(listed, []string{"4", "1"}) {
		t.Errorf("enabled versions listed %v, want [4 1]", listed)
	}
	// Payload limit and checksum.
	if _, err := e.add(s.Name, strings.Repeat("x", gcpsmtest.MaxPayloadSize)); err != nil {
		t.Errorf("AddSecretVersion of %d bytes: %v", gcpsmtest.MaxPayloadSize, err)
	}
	_, err = e.add(s.Name, strings.Repeat("x", gcpsmtest.MaxPayloadSize+1))
	wantCode(t, "AddSecretVersion over the limit", err, codes.InvalidArgument)
	bad := int64(1)
	_, err = e.c.AddSecretVersion(e.ctx, &secretmanagerpb.AddSecretVersionRequest{Parent: s.Name, Payload: &secretmanagerpb.SecretPayload{Data: []byte("x"), DataCrc32C: &bad}})
	wantCode(t, "AddSecretVersion with a wrong checksum", err, codes.InvalidArgument)
	_, err = e.add("projects/p/secrets/missing", "x")
	wantCode(t, "AddSecretVersion to a missing secret", err, codes.NotFound)
}

func TestEtagsAndAliases(t *testing.T) {
	e := newEnv(t)
	s := e.mustCreate("projects/p", "s", map[string]string{"a": "1"})
	if s.Etag == "" || s.Etag[0] != '"' {
		t.Errorf("etag %q, want a quoted string", s.Etag)
	}
	if _, err := e.add(s.Name, "one"); err != nil {
		t.Fatal(err)
	}
	got, err := e.c.GetSecret(e.ctx, &secretmanagerpb.GetSecretRequest{Name: s.Name})
	if err != nil || got.Etag != s.Etag {
		t.Errorf("etag after AddSecretVersion = %q, want %q unchanged: a version is another resource", got.GetEtag(), s.Etag)
	}
	update := func(etag string, aliases map[string]int64, paths ...string) (*secretmanagerpb.Secret, error) {
		return e.c.UpdateSecret(e.ctx, &secretmanagerpb.UpdateSecretRequest{
			Secret:     &secretmanagerpb.Secret{Name: s.Name, Etag: etag, Labels: map[string]string{"a": "2"}, VersionAliases: aliases},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: paths},
		})
	}
	u, err := update(s.Etag, map[string]int64{"current": 1}, "labels", "version_aliases")
	if err != nil {
		t.Fatal(err)
	}
	if u.Etag == s.Etag || u.Labels["a"] != "2" || u.VersionAliases["current"] != 1 {
		t.Errorf("UpdateSecret = %v; want new labels, aliases and etag", u)
	}
	_, err = update(s.Etag, nil, "labels")
	wantCode(t, "UpdateSecret with a stale etag", err, codes.FailedPrecondition)
	if _, err := update("", nil, "labels"); err != nil {
		t.Errorf("UpdateSecret without an etag: %v", err)
	}
	_, err = update("", nil)
	wantCode(t, "UpdateSecret without a mask", err, codes.InvalidArgument)
	_, err = update("", map[string]int64{"x": 7}, "version_aliases")
	wantCode(t, "alias of a version that does not exist", err, codes.InvalidArgument)
	for _, a := range []string{"latest", "LATEST", "new", "1x", "a.b"} {
		_, err = update("", map[string]int64{a: 1}, "version_aliases")
		wantCode(t, "alias "+a, err, codes.InvalidArgument)
	}
	if got, err := e.access(s.Name + "/versions/current"); err != nil || got != s.Name+"/versions/1=one" {
		t.Errorf("access by alias = %q, %v; want version 1 by its number", got, err)
	}
	_, err = e.access(s.Name + "/versions/nosuchalias")
	wantCode(t, "access by an unknown alias", err, codes.NotFound)
	err = e.c.DeleteSecret(e.ctx, &secretmanagerpb.DeleteSecretRequest{Name: s.Name, Etag: s.Etag})
	wantCode(t, "DeleteSecret with a stale etag", err, codes.FailedPrecondition)
}

func TestListFiltersAndPages(t *testing.T) {
	e := newEnv(t)
	for i := range 10 {
		l := map[string]string{"ns": "a", "n": fmt.Sprint(i)}
		if i%2 == 1 {
			l["ns"] = "b"
		}
		e.mustCreate("projects/p", fmt.Sprintf("s%02d", i), l)
	}
	list := func(filter string, pageSize int32, between func()) ([]string, int, error) {
		var ids []string
		pages := 0
		req := &secretmanagerpb.ListSecretsRequest{Parent: "projects/p", Filter: filter, PageSize: pageSize}
		for {
			r, err := rawList(e, req)
			if err != nil {
				return nil, 0, err
			}
			pages++
			for _, s := range r.Secrets {
				ids = append(ids, s.Name[strings.LastIndex(s.Name, "/")+1:])
			}
			if r.NextPageToken == "" {
				return ids, pages, nil
			}
			req.PageToken = r.NextPageToken
			if between != nil {
				between()
				between = nil
			}
		}
	}
	ids, _, err := list("labels.ns=a", 0, nil)
	if err != nil || !slices.Equal(ids, []string{"s00", "s02", "s04", "s06", "s08"}) {
		t.Errorf("labels.ns=a: %v, %v", ids, err)
	}
	ids, _, err = list(`labels.ns="a" AND labels.n="4"`, 0, nil)
	if err != nil || !slices.Equal(ids, []string{"s04"}) {
		t.Errorf("labels.ns=a AND labels.n=4: %v, %v", ids, err)
	}
	ids, _, err = list("labels.ns=b labels.n:*", 0, nil)
	if err != nil || len(ids) != 5 {
		t.Errorf("implicit AND with presence: %v, %v", ids, err)
	}
	for _, f := range []string{"labels.ns=a OR labels.ns=b", "NOT labels.ns=a", "create_time>2020", "labels.ns"} {
		_, _, err := list(f, 0, nil)
		wantCode(t, "filter "+f, err, codes.InvalidArgument)
	}
	// Pages of 2, with a secret deleted and one created between pages:
	// nothing that stays is skipped or seen twice.
	ids, pages, err := list("labels.ns=a", 2, func() {
		if err := e.c.DeleteSecret(e.ctx, &secretmanagerpb.DeleteSecretRequest{Name: "projects/p/secrets/s00"}); err != nil {
			t.Fatal(err)
		}
		e.mustCreate("projects/p", "s01a", map[string]string{"ns": "a"})
	})
	// s01a sorts before the cursor: created behind it, it is not listed.
	if err != nil || pages != 3 || !slices.Equal(ids, []string{"s00", "s02", "s04", "s06", "s08"}) {
		t.Errorf("paged listing = %v in %d pages, %v", ids, pages, err)
	}
	_, err = rawList(e, &secretmanagerpb.ListSecretsRequest{Parent: "projects/p", PageToken: "!!"})
	wantCode(t, "invalid page token", err, codes.InvalidArgument)
}

func rawList(e *env, req *secretmanagerpb.ListSecretsRequest) (*secretmanagerpb.ListSecretsResponse, error) {
	it := e.c.ListSecrets(e.ctx, req)
	_, err := it.Next()
	if err != nil && !errors.Is(err, iterator.Done) {
		return nil, err
	}
	r, _ := it.Response.(*secretmanagerpb.ListSecretsResponse)
	return r, nil
}

func TestIsolation(t *testing.T) {
	e := newEnv(t)
	num := e.number()
	if num == "p" || strings.Trim(num, "0123456789") != "" {
		t.Fatalf("names carry %q, want the project number", num)
	}
	s := e.mustCreate("projects/p", "shared", map[string]string{"k": "v"})
	if !strings.HasPrefix(s.Name, "projects/"+num+"/secrets/") {
		t.Errorf("name %q, want the project number", s.Name)
	}
	// Addressed by number, the same secret.
	if _, err := e.c.GetSecret(e.ctx, &secretmanagerpb.GetSecretRequest{Name: "projects/" + num + "/secrets/shared"}); err != nil {
		t.Errorf("GetSecret by project number: %v", err)
	}
	for _, other := range []string{"projects/q", "projects/p/locations/europe-west1"} {
		_, err := e.c.GetSecret(e.ctx, &secretmanagerpb.GetSecretRequest{Name: other + "/secrets/shared"})
		wantCode(t, "GetSecret in "+other, err, codes.NotFound)
		r, err := rawList(e, &secretmanagerpb.ListSecretsRequest{Parent: other})
		if err != nil || len(r.GetSecrets()) != 0 {
			t.Errorf("ListSecrets(%s) = %v, %v; want nothing", other, r.GetSecrets(), err)
		}
		if _, err := e.create(other, "shared", nil); err != nil {
			t.Errorf("CreateSecret of the same ID in %s: %v", other, err)
		}
	}
}

func TestCallsAndFailures(t *testing.T) {
	e := newEnv(t)
	e.srv.ResetCalls()
	e.mustCreate("projects/p", "s", nil)
	e.srv.FailNext(1, "GetSecret", codes.PermissionDenied)
	_, err := e.c.GetSecret(e.ctx, &secretmanagerpb.GetSecretRequest{Name: "projects/p/secrets/s"})
	wantCode(t, "injected failure", err, codes.PermissionDenied)
	if _, err := e.c.GetSecret(e.ctx, &secretmanagerpb.GetSecretRequest{Name: "projects/p/secrets/s"}); err != nil {
		t.Errorf("the call after the injected failure: %v", err)
	}
	if c := e.srv.Calls(); c["CreateSecret"] != 1 || c["GetSecret"] != 2 {
		t.Errorf("Calls = %v, want 1 CreateSecret and 2 GetSecret", c)
	}
}
