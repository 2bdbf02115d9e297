package hashivault_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/vault/api"

	"github.com/tokenstore-go/tokenstore"
	"github.com/tokenstore-go/tokenstore/hashivault"
	"github.com/tokenstore-go/tokenstore/storetest"
)

func TestConformance(t *testing.T) {
	e := getEnv(t)
	root := e.root(t)
	storetest.RunBackend(t, func(ctx context.Context, t *testing.T) (tokenstore.Backend, error) {
		return hashivault.New(root, hashivault.Options{Mount: e.mount, Prefix: "storetest"})
	})
}

// listFolder lists a KV v2 folder under the mount as root.
func listFolder(t *testing.T, e vaultEnv, folder string) []string {
	t.Helper()
	s, err := e.root(t).Logical().ListWithContext(t.Context(), e.mount+"/metadata/"+folder)
	if err != nil {
		t.Fatal(err)
	}
	if s == nil {
		return nil
	}
	var names []string
	for _, k := range s.Data["keys"].([]any) {
		names = append(names, k.(string))
	}
	slices.Sort(names)
	return names
}

// A stale index entry (a crash between the token's write and the index
// update, or a concurrent update) never yields a wrong token, and a lookup
// that meets one deletes it.
func TestStaleIndexEntry(t *testing.T) {
	e := getEnv(t)
	ctx := t.Context()
	root := e.root(t)
	prefix, ns := unique(t, "stale"), "ns"
	b := e.backend(t, root, hashivault.Options{Prefix: prefix})
	s := newStore(t, b, ns)
	a, c := user(1), user(2)
	for _, tok := range []*tokenstore.Token{a, c} {
		if err := s.SaveToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	ea, err := b.Get(ctx, ns, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	ec, err := b.Get(ctx, ns, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	oldAccess := ea.Index.AccessToken

	// a's access token changes; then the entry of the old one is planted
	// again, as if the delete after the update had not happened.
	if err := s.SaveToken(ctx, &tokenstore.Token{ID: a.ID, AccessToken: "1000.access-new"}); err != nil {
		t.Fatal(err)
	}
	plant := func(kind tokenstore.IndexKind, hash, id string) string {
		folder := prefix + "/" + ns + "/index/" + string(kind) + "/" + hash + "/"
		if _, err := root.Logical().WriteWithContext(ctx, e.mount+"/data/"+folder+id, map[string]any{"data": map[string]any{"id": id}}); err != nil {
			t.Fatal(err)
		}
		return folder
	}
	oldFolder := plant(tokenstore.IndexAccessToken, oldAccess, a.ID)
	// And an entry of c's access token that points to a, and one that
	// points to a token that does not exist.
	cFolder := plant(tokenstore.IndexAccessToken, ec.Index.AccessToken, a.ID)
	plant(tokenstore.IndexAccessToken, ec.Index.AccessToken, "no-such-token")
	if got := listFolder(t, e, cFolder); len(got) != 3 {
		t.Fatalf("planted index entries: %v", got)
	}

	if got, err := s.FindToken(ctx, &tokenstore.Token{AccessToken: a.AccessToken}); !errors.Is(err, tokenstore.ErrNotFound) {
		t.Errorf("FindToken(a's old access token) = %v, %v; want ErrNotFound", got, err)
	}
	if got := listFolder(t, e, oldFolder); len(got) != 0 {
		t.Errorf("the stale entry was not deleted: %v", got)
	}
	found, err := b.Lookup(ctx, ns, tokenstore.IndexAccessToken, ec.Index.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || found[0].ID != c.ID {
		t.Errorf("Lookup(c's access hash) = %d entries, want only c", len(found))
	}
	if got := listFolder(t, e, cFolder); !slices.Equal(got, []string{c.ID}) {
		t.Errorf("index entries of c's access hash after the lookup = %v, want [%s]", got, c.ID)
	}
	if got, err := s.FindToken(ctx, &tokenstore.Token{AccessToken: c.AccessToken}); err != nil || got.ID != c.ID {
		t.Errorf("FindToken(c's access token) = %v, %v; want c", got, err)
	}
	if got, err := s.FindToken(ctx, &tokenstore.Token{AccessToken: "1000.access-new"}); err != nil || got.ID != a.ID {
		t.Errorf("FindToken(a's new access token) = %v, %v; want a", got, err)
	}
}

// Updates and deletes leave exactly the index entries of the tokens' hashes.
func TestIndexEntriesFollowTokens(t *testing.T) {
	e := getEnv(t)
	ctx := t.Context()
	prefix, ns := unique(t, "follow"), "ns"
	b := e.backend(t, e.root(t), hashivault.Options{Prefix: prefix})
	s := newStore(t, b, ns)
	a := user(1)
	if err := s.SaveToken(ctx, a); err != nil {
		t.Fatal(err)
	}
	want := func(tok *tokenstore.Token) {
		t.Helper()
		var wantEntries []string
		if tok != nil {
			en, err := b.Get(ctx, ns, tok.ID)
			if err != nil {
				t.Fatal(err)
			}
			for k, h := range en.Index.All() {
				wantEntries = append(wantEntries, string(k)+"/"+h+"/"+tok.ID)
			}
		}
		var got []string
		for _, k := range listFolder(t, e, prefix+"/"+ns+"/index/") {
			for _, h := range listFolder(t, e, prefix+"/"+ns+"/index/"+k) {
				for _, id := range listFolder(t, e, prefix+"/"+ns+"/index/"+k+h) {
					got = append(got, k+h+id)
				}
			}
		}
		slices.Sort(wantEntries)
		if !slices.Equal(got, wantEntries) {
			t.Errorf("index entries = %v, want %v", got, wantEntries)
		}
	}
	want(a)
	if err := s.SaveToken(ctx, &tokenstore.Token{ID: a.ID, AccessToken: "1000.access-2", RefreshToken: "1000.refresh-2"}); err != nil {
		t.Fatal(err)
	}
	want(a)
	if _, err := s.Update(ctx, a.ID, func(*tokenstore.Token) (*tokenstore.Token, error) {
		return &tokenstore.Token{UserName: a.UserName}, nil
	}); err != nil {
		t.Fatal(err)
	}
	want(a)
	if err := s.DeleteToken(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	want(nil)
	if got := listFolder(t, e, prefix+"/"+ns+"/tokens/"); len(got) != 0 {
		t.Errorf("tokens after DeleteToken: %v", got)
	}
}

// A store over another prefix sees nothing of this one's, in the same
// namespace and mount.
func TestOtherPrefixInvisible(t *testing.T) {
	e := getEnv(t)
	ctx := t.Context()
	root := e.root(t)
	p := unique(t, "prefix")
	s1 := newStore(t, e.backend(t, root, hashivault.Options{Prefix: p + "/one"}), "ns")
	s2 := newStore(t, e.backend(t, root, hashivault.Options{Prefix: p + "/two"}), "ns")
	a := user(1)
	if err := s1.SaveToken(ctx, a); err != nil {
		t.Fatal(err)
	}
	if got, err := s2.FindTokenByID(ctx, a.ID); !errors.Is(err, tokenstore.ErrNotFound) {
		t.Errorf("FindTokenByID under another prefix = %v, %v", got, err)
	}
	for _, q := range []*tokenstore.Token{{UserName: a.UserName}, {AccessToken: a.AccessToken}} {
		if got, err := s2.FindToken(ctx, q); !errors.Is(err, tokenstore.ErrNotFound) {
			t.Errorf("FindToken under another prefix = %v, %v", got, err)
		}
	}
	if all, err := s2.GetTokens(ctx); err != nil || len(all) != 0 {
		t.Errorf("GetTokens under another prefix = %v, %v", all, err)
	}
	if err := s2.DeleteTokens(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := s1.FindTokenByID(ctx, a.ID); err != nil || got.RefreshToken != a.RefreshToken {
		t.Errorf("after DeleteTokens under another prefix, FindTokenByID = %v, %v", got, err)
	}
}

// A Vault token whose policy allows only reading the namespace can find and
// list, gets permission errors naming the path on every write, and leaves
// nothing half-written.
func TestPolicyRestrictedToken(t *testing.T) {
	e := getEnv(t)
	ctx := t.Context()
	root := e.root(t)
	prefix, ns := unique(t, "policy"), "ns"
	policy := fmt.Sprintf(`
path "%[1]s/data/%[2]s/%[3]s/*" { capabilities = ["read"] }
path "%[1]s/metadata/%[2]s/%[3]s/*" { capabilities = ["read", "list"] }
`, e.mount, prefix, ns)
	if err := root.Sys().PutPolicyWithContext(ctx, prefix, policy); err != nil {
		t.Fatal(err)
	}
	sec, err := root.Auth().Token().CreateWithContext(ctx, &api.TokenCreateRequest{Policies: []string{prefix}, NoDefaultPolicy: true})
	if err != nil {
		t.Fatal(err)
	}
	limited, _ := e.client(t, sec.Auth.ClientToken)

	rootStore := newStore(t, e.backend(t, root, hashivault.Options{Prefix: prefix}), ns)
	ro := newStore(t, e.backend(t, limited, hashivault.Options{Prefix: prefix}), ns)
	a := user(1)
	if err := rootStore.SaveToken(ctx, a); err != nil {
		t.Fatal(err)
	}
	if got, err := ro.FindToken(ctx, &tokenstore.Token{AccessToken: a.AccessToken}); err != nil || got.ID != a.ID {
		t.Errorf("read-only FindToken = %v, %v", got, err)
	}
	if all, err := ro.GetTokens(ctx); err != nil || len(all) != 1 {
		t.Errorf("read-only GetTokens = %d tokens, %v", len(all), err)
	}

	before := snapshot(t, e, prefix+"/"+ns+"/")
	writes := map[string]func() error{
		"SaveToken (new)": func() error { return ro.SaveToken(ctx, user(2)) },
		"SaveToken (update)": func() error {
			return ro.SaveToken(ctx, &tokenstore.Token{ID: a.ID, AccessToken: "1000.access-changed"})
		},
		"DeleteToken":  func() error { return ro.DeleteToken(ctx, a.ID) },
		"DeleteTokens": func() error { return ro.DeleteTokens(ctx) },
	}
	for name, write := range writes {
		err := write()
		if !errors.Is(err, hashivault.ErrPermissionDenied) {
			t.Errorf("%s with a read-only Vault token = %v, want ErrPermissionDenied", name, err)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, e.mount+"/") || !strings.Contains(msg, "/"+prefix+"/"+ns+"/") {
			t.Errorf("%s: the error does not name the path: %s", name, msg)
		}
		for _, secret := range []string{sec.Auth.ClientToken, e.token, a.AccessToken, a.RefreshToken, "1000.access-changed", user(2).RefreshToken} {
			if strings.Contains(msg, secret) {
				t.Errorf("%s: the error holds a secret: %s", name, msg)
			}
		}
		t.Logf("%s: %v", name, err)
	}
	if after := snapshot(t, e, prefix+"/"+ns+"/"); !slices.Equal(before, after) {
		t.Errorf("denied writes changed the store:\nbefore %v\nafter  %v", before, after)
	}
}

// snapshot lists every secret under folder with its current version.
func snapshot(t *testing.T, e vaultEnv, folder string) []string {
	t.Helper()
	var out []string
	for _, name := range listFolder(t, e, folder) {
		if strings.HasSuffix(name, "/") {
			out = append(out, snapshot(t, e, folder+name)...)
			continue
		}
		m, err := e.root(t).Logical().ReadWithContext(t.Context(), e.mount+"/metadata/"+folder+name)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s%s@%v", folder, name, m.Data["current_version"]))
	}
	return out
}

// Every token gets max_versions, and its custom_metadata holds its index.
func TestMetadata(t *testing.T) {
	e := getEnv(t)
	ctx := t.Context()
	prefix, ns := unique(t, "meta"), "ns"
	b := e.backend(t, e.root(t), hashivault.Options{Prefix: prefix, MaxVersions: 3})
	s := newStore(t, b, ns)
	a := user(1)
	if err := s.SaveToken(ctx, a); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := s.SaveToken(ctx, &tokenstore.Token{ID: a.ID, AccessToken: fmt.Sprintf("1000.access-%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	en, err := b.Get(ctx, ns, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	m, err := e.root(t).Logical().ReadWithContext(ctx, e.mount+"/metadata/"+prefix+"/"+ns+"/tokens/"+a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(m.Data["max_versions"]); got != "3" {
		t.Errorf("max_versions = %s, want 3", got)
	}
	if got := fmt.Sprint(m.Data["current_version"]); got != "6" {
		t.Errorf("current_version = %s, want 6", got)
	}
	if versions, _ := m.Data["versions"].(map[string]any); len(versions) != 3 {
		t.Errorf("%d versions kept, want 3", len(versions))
	}
	cm, _ := m.Data["custom_metadata"].(map[string]any)
	want := map[string]any{}
	for k, h := range en.Index.All() {
		want[string(k)] = h
	}
	if fmt.Sprint(cm) != fmt.Sprint(want) {
		t.Errorf("custom_metadata = %v, want the index %v", cm, want)
	}

	// Kinds the token no longer has leave custom_metadata too.
	if _, err := s.Update(ctx, a.ID, func(*tokenstore.Token) (*tokenstore.Token, error) {
		return &tokenstore.Token{UserName: a.UserName}, nil
	}); err != nil {
		t.Fatal(err)
	}
	m, err = e.root(t).Logical().ReadWithContext(ctx, e.mount+"/metadata/"+prefix+"/"+ns+"/tokens/"+a.ID)
	if err != nil {
		t.Fatal(err)
	}
	cm, _ = m.Data["custom_metadata"].(map[string]any)
	if len(cm) != 1 || cm["user"] != en.Index.UserName {
		t.Errorf("custom_metadata after the update = %v, want only the user hash", cm)
	}
}

// A token whose latest version was deleted by hand (vault kv delete) is
// absent for the store, and saving it again writes a new version.
func TestSoftDeletedToken(t *testing.T) {
	e := getEnv(t)
	ctx := t.Context()
	root := e.root(t)
	prefix, ns := unique(t, "soft"), "ns"
	s := newStore(t, e.backend(t, root, hashivault.Options{Prefix: prefix}), ns)
	a := user(1)
	if err := s.SaveToken(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, err := root.Logical().DeleteWithContext(ctx, e.mount+"/data/"+prefix+"/"+ns+"/tokens/"+a.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := s.FindTokenByID(ctx, a.ID); !errors.Is(err, tokenstore.ErrNotFound) {
		t.Errorf("FindTokenByID of a soft-deleted token = %v, %v", got, err)
	}
	if all, err := s.GetTokens(ctx); err != nil || len(all) != 0 {
		t.Errorf("GetTokens with a soft-deleted token = %v, %v", all, err)
	}
	b := user(1)
	if err := s.SaveToken(ctx, b); err != nil {
		t.Fatalf("SaveToken over a soft-deleted token: %v", err)
	}
	if got, err := s.FindTokenByID(ctx, a.ID); err != nil || got.AccessToken != a.AccessToken || b.ID != a.ID {
		t.Errorf("after saving again, FindTokenByID = %v, %v", got, err)
	}
}

// The policy of the package doc is enough for every operation, including
// the repair of a stale index entry.
func TestDocumentedPolicy(t *testing.T) {
	e := getEnv(t)
	ctx := t.Context()
	root := e.root(t)
	prefix, ns := unique(t, "policy-doc"), "ns"
	policy := fmt.Sprintf(`
path "%[1]s/data/%[2]s/%[3]s/*"     { capabilities = ["create", "read", "update", "patch"] }
path "%[1]s/metadata/%[2]s/%[3]s/*" { capabilities = ["create", "read", "update", "delete", "list"] }
`, e.mount, prefix, ns)
	if err := root.Sys().PutPolicyWithContext(ctx, prefix, policy); err != nil {
		t.Fatal(err)
	}
	sec, err := root.Auth().Token().CreateWithContext(ctx, &api.TokenCreateRequest{Policies: []string{prefix}, NoDefaultPolicy: true})
	if err != nil {
		t.Fatal(err)
	}
	limited, _ := e.client(t, sec.Auth.ClientToken)
	s := newStore(t, e.backend(t, limited, hashivault.Options{Prefix: prefix}), ns)
	a, c := user(1), user(2)
	steps := []struct {
		name string
		fn   func() error
	}{
		{"SaveToken (new)", func() error { return s.SaveToken(ctx, a) }},
		{"SaveToken (new, second)", func() error { return s.SaveToken(ctx, c) }},
		{"SaveToken (index changes)", func() error {
			return s.SaveToken(ctx, &tokenstore.Token{ID: a.ID, AccessToken: "1000.access-changed"})
		}},
		{"FindToken (a stale entry is repaired)", func() error {
			// An entry of c's access token pointing to a, as a crash
			// could leave it.
			en, err := e.backend(t, root, hashivault.Options{Prefix: prefix}).Get(ctx, ns, c.ID)
			if err != nil {
				return err
			}
			folder := prefix + "/" + ns + "/index/access/" + en.Index.AccessToken + "/"
			if _, err := root.Logical().WriteWithContext(ctx, e.mount+"/data/"+folder+a.ID, map[string]any{"data": map[string]any{"id": a.ID}}); err != nil {
				return err
			}
			got, err := s.FindToken(ctx, &tokenstore.Token{AccessToken: c.AccessToken})
			if err != nil {
				return err
			}
			if got.ID != c.ID {
				return fmt.Errorf("found %s, want %s", got.ID, c.ID)
			}
			if left := listFolder(t, e, folder); !slices.Equal(left, []string{c.ID}) {
				return fmt.Errorf("index entries after the repair: %v", left)
			}
			return nil
		}},
		{"FindToken (by refresh token)", func() error {
			_, err := s.FindToken(ctx, &tokenstore.Token{ClientID: a.ClientID, ClientSecret: a.ClientSecret, RefreshToken: a.RefreshToken})
			return err
		}},
		{"GetTokens", func() error { _, err := s.GetTokens(ctx); return err }},
		{"DeleteToken", func() error { return s.DeleteToken(ctx, a.ID) }},
		{"DeleteTokens", func() error { return s.DeleteTokens(ctx) }},
	}
	for _, st := range steps {
		if err := st.fn(); err != nil {
			t.Errorf("%s with the documented policy: %v", st.name, err)
		}
	}
	if left := snapshot(t, e, prefix+"/"+ns+"/"); len(left) != 0 {
		t.Errorf("left after DeleteTokens: %v", left)
	}
}
