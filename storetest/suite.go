package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenstore-go/tokenstore"
)

// Run runs the conformance suite on the stores newHarness makes.
func Run(t *testing.T, newHarness HarnessMaker) {
	tests := []struct {
		name string
		fn   func(*testing.T, *env)
	}{
		{"Precedence", testPrecedence},
		{"RoundTrip", testRoundTrip},
		{"AwkwardValues", testAwkwardValues},
		{"IDAssignment", testIDAssignment},
		{"UpdateByID", testUpdateByID},
		{"MergeOnSave", testMergeOnSave},
		{"OneIDPerUser", testOneIDPerUser},
		{"MultiUser", testMultiUser},
		{"Namespaces", testNamespaces},
		{"GetAndDeleteTokens", testGetAndDeleteTokens},
		{"NotFound", testNotFound},
		{"InvalidToken", testInvalidToken},
		{"InvalidID", testInvalidID},
		{"TooLarge", testTooLarge},
		{"ReturnsCopies", testReturnsCopies},
		{"ErrorsHoldNoSecrets", testErrorsHoldNoSecrets},
		{"CanceledContext", testCanceledContext},
		{"NoDuplicates", testNoDuplicates},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newEnv(t, newHarness)) })
	}
}

func testPrecedence(t *testing.T, e *env) {
	ctx := t.Context()
	s := e.store()
	a, b := user(1), user(2)
	// c is known by its refresh token only, d by its access token only.
	c := &tokenstore.Token{ClientID: clientID, ClientSecret: clientSecret, RefreshToken: "1000.refresh-c.41f0"}
	d := &tokenstore.Token{AccessToken: "1000.access-d.93aa"}
	saveAll(t, s, a, b, c, d)
	creds := func(q tokenstore.Token) *tokenstore.Token {
		q.ClientID, q.ClientSecret = clientID, clientSecret
		return &q
	}
	tests := []struct {
		rule  string
		query *tokenstore.Token
		want  *tokenstore.Token // nil: want wantErr
		err   error
	}{
		{"1. user name matches", &tokenstore.Token{UserName: a.UserName}, a, nil},
		{"1. user name only: user name + another user's refresh token finds the user", creds(tokenstore.Token{UserName: b.UserName, RefreshToken: a.RefreshToken}), b, nil},
		{"1. user name only: unknown user name + a stored refresh token finds nothing", creds(tokenstore.Token{UserName: "nobody@example.com:1", RefreshToken: a.RefreshToken}), nil, tokenstore.ErrNotFound},
		{"1. user name only: user name + another user's access token finds the user", &tokenstore.Token{UserName: a.UserName, AccessToken: b.AccessToken}, a, nil},
		{"2. access token without client credentials", &tokenstore.Token{AccessToken: b.AccessToken}, b, nil},
		{"2. access token of a token stored by access token alone", &tokenstore.Token{AccessToken: d.AccessToken}, d, nil},
		{"2. unknown access token", &tokenstore.Token{AccessToken: "1000.unknown"}, nil, tokenstore.ErrNotFound},
		{"2. access token with a client ID does not match by access token", &tokenstore.Token{AccessToken: a.AccessToken, ClientID: clientID}, nil, tokenstore.ErrInvalidToken},
		{"2. access token with a client secret does not match by access token", &tokenstore.Token{AccessToken: a.AccessToken, ClientSecret: clientSecret}, nil, tokenstore.ErrInvalidToken},
		{"2. access token with client credentials does not match by access token", creds(tokenstore.Token{AccessToken: a.AccessToken}), nil, tokenstore.ErrInvalidToken},
		{"3. grant token with client credentials", creds(tokenstore.Token{GrantToken: a.GrantToken}), a, nil},
		{"3. refresh token with client credentials", creds(tokenstore.Token{RefreshToken: b.RefreshToken}), b, nil},
		{"3. refresh token of a token stored by refresh token alone", creds(tokenstore.Token{RefreshToken: c.RefreshToken}), c, nil},
		{"3. grant token first, then refresh token", creds(tokenstore.Token{GrantToken: a.GrantToken, RefreshToken: b.RefreshToken}), a, nil},
		{"3. unknown grant token falls back to the refresh token", creds(tokenstore.Token{GrantToken: "1000.unknown", RefreshToken: b.RefreshToken}), b, nil},
		{"3. access token is ignored when client credentials are given", creds(tokenstore.Token{RefreshToken: a.RefreshToken, AccessToken: b.AccessToken}), a, nil},
		{"3. unknown grant and refresh tokens", creds(tokenstore.Token{GrantToken: "1000.g", RefreshToken: "1000.r"}), nil, tokenstore.ErrNotFound},
		{"3. refresh token without client credentials identifies nothing", &tokenstore.Token{RefreshToken: a.RefreshToken}, nil, tokenstore.ErrInvalidToken},
		{"3. refresh token with a client ID but no secret identifies nothing", &tokenstore.Token{RefreshToken: a.RefreshToken, ClientID: clientID}, nil, tokenstore.ErrInvalidToken},
		{"3. grant token with a client secret but no ID identifies nothing", &tokenstore.Token{GrantToken: a.GrantToken, ClientSecret: clientSecret}, nil, tokenstore.ErrInvalidToken},
		{"4. client credentials alone identify nothing", creds(tokenstore.Token{}), nil, tokenstore.ErrInvalidToken},
		{"4. an empty query identifies nothing", &tokenstore.Token{}, nil, tokenstore.ErrInvalidToken},
		{"4. a nil query identifies nothing", nil, nil, tokenstore.ErrInvalidToken},
		{"4. other fields alone identify nothing", &tokenstore.Token{APIDomain: a.APIDomain, Scope: a.Scope, Expiry: a.Expiry}, nil, tokenstore.ErrInvalidToken},
	}
	for _, tc := range tests {
		got, err := s.FindToken(ctx, tc.query)
		switch {
		case tc.want != nil && err != nil:
			t.Errorf("%s: FindToken: %v", tc.rule, err)
		case tc.want != nil:
			if got.ID != tc.want.ID {
				t.Errorf("%s: found %v, want %v", tc.rule, got, tc.want)
			}
		case !errors.Is(err, tc.err):
			t.Errorf("%s: FindToken = %v, %v; want error %v", tc.rule, got, err, tc.err)
		}
	}
}

func testRoundTrip(t *testing.T, e *env) {
	ctx := t.Context()
	s := e.store()
	want := user(1)
	// Sub-millisecond digits are dropped; the zone does not matter.
	want.Expiry = time.Date(2030, 1, 2, 3, 4, 5, 678_901_234, time.FixedZone("X", 5*3600+1800))
	saveAll(t, s, want.Clone())
	got, err := s.FindToken(ctx, &tokenstore.Token{UserName: want.UserName})
	if err != nil {
		t.Fatal(err)
	}
	sameFields(t, got, want)
	if !got.Expiry.Equal(want.Expiry.Truncate(time.Millisecond)) {
		t.Errorf("Expiry = %v, want %v", got.Expiry, want.Expiry.Truncate(time.Millisecond))
	}
	byID, err := s.FindTokenByID(ctx, got.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameFields(t, byID, got)

	// A zero expiry stays zero, and a token with one field set keeps just that.
	sparse := &tokenstore.Token{AccessToken: "1000.only-access"}
	saveAll(t, s, sparse)
	got, err = s.FindTokenByID(ctx, sparse.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameFields(t, got, sparse)
	if !got.Expiry.IsZero() {
		t.Errorf("zero Expiry came back as %v", got.Expiry)
	}
}

// testAwkwardValues feeds the values that broke Zoho's SQL store.
func testAwkwardValues(t *testing.T, e *env) {
	ctx := t.Context()
	s := e.store()
	for i, name := range []string{
		"o'brien@example.com:1", `quote"d@example.com`, "x'); DROP TABLE oauthtoken;--",
		"名前@例え.jp:42", "tab\tnew\nline", "back\\slash", "../../etc/passwd", "*", "%", "labels.user=x",
	} {
		tok := user(i)
		tok.UserName = name
		tok.Extra["note"] = name
		saveAll(t, s, tok)
		got, err := s.FindToken(ctx, &tokenstore.Token{UserName: name})
		if err != nil {
			t.Errorf("FindToken(user %q): %v", name, err)
			continue
		}
		sameFields(t, got, tok)
	}
	all, err := s.GetTokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 10 {
		t.Errorf("GetTokens returned %d tokens, want 10", len(all))
	}
}

func testIDAssignment(t *testing.T, e *env) {
	ctx := t.Context()
	s := e.store()
	a, b := user(1), user(2)
	saveAll(t, s, a, b)
	for _, tok := range []*tokenstore.Token{a, b} {
		if !tokenstore.ValidID(tok.ID) {
			t.Fatalf("SaveToken set ID %q, want a valid ID", tok.ID)
		}
		got, err := s.FindTokenByID(ctx, tok.ID)
		if err != nil {
			t.Fatalf("FindTokenByID(%q): %v", tok.ID, err)
		}
		sameFields(t, got, tok)
	}
	if a.ID == b.ID {
		t.Errorf("two users got one ID %q", a.ID)
	}
	// Saving the same user again, without an ID, keeps the ID.
	again := &tokenstore.Token{UserName: a.UserName, AccessToken: "1000.newer"}
	saveAll(t, s, again)
	if again.ID != a.ID {
		t.Errorf("second save of a user got ID %q, want %q", again.ID, a.ID)
	}
}

func testUpdateByID(t *testing.T, e *env) {
	ctx := t.Context()
	s := e.store()
	a := user(1)
	saveAll(t, s, a)
	upd := &tokenstore.Token{ID: a.ID, AccessToken: "1000.rotated-access", Expiry: a.Expiry.Add(time.Hour)}
	saveAll(t, s, upd)
	got, err := s.FindTokenByID(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := a.Clone()
	want.AccessToken, want.Expiry = upd.AccessToken, upd.Expiry
	sameFields(t, got, want)

	// A token with an ID that is not stored yet is created under that ID.
	fresh := user(2)
	fresh.ID = "chosen_ID-2"
	saveAll(t, s, fresh)
	if fresh.ID != "chosen_ID-2" {
		t.Errorf("SaveToken changed the given ID to %q", fresh.ID)
	}
	got, err = s.FindToken(ctx, &tokenstore.Token{UserName: fresh.UserName})
	if err != nil {
		t.Fatal(err)
	}
	sameFields(t, got, fresh)
}

func testMergeOnSave(t *testing.T, e *env) {
	ctx := t.Context()
	s := e.store()
	a := user(1)
	saveAll(t, s, a.Clone())
	// A refresh response: new access token and expiry, no refresh token.
	refreshed := &tokenstore.Token{
		UserName:    a.UserName,
		AccessToken: "1000.access-after-refresh",
		Expiry:      a.Expiry.Add(time.Hour),
		Extra:       map[string]string{"session": "sess-new", "added": "yes"},
	}
	saveAll(t, s, refreshed)
	got, err := s.FindToken(ctx, &tokenstore.Token{UserName: a.UserName})
	if err != nil {
		t.Fatal(err)
	}
	want := a.Clone()
	want.AccessToken, want.Expiry = refreshed.AccessToken, refreshed.Expiry
	want.Extra = map[string]string{"location": "eu", "session": "sess-new", "added": "yes"}
	sameFields(t, got, want)
	if got.RefreshToken != a.RefreshToken {
		t.Errorf("a save without a refresh token lost the stored one")
	}
	// The merged token is found by its new access token too.
	byAccess, err := s.FindToken(ctx, &tokenstore.Token{AccessToken: refreshed.AccessToken})
	if err != nil || byAccess.ID != got.ID {
		t.Errorf("FindToken(new access token) = %v, %v; want %v", byAccess, err, got)
	}
	// ...and no longer by the old one.
	if old, err := s.FindToken(ctx, &tokenstore.Token{AccessToken: a.AccessToken}); !errors.Is(err, tokenstore.ErrNotFound) {
		t.Errorf("FindToken(replaced access token) = %v, %v; want ErrNotFound", old, err)
	}
}

func testOneIDPerUser(t *testing.T, e *env) {
	ctx := t.Context()
	s := e.store()
	a := user(1)
	saveAll(t, s, a)
	dup := user(1)
	dup.ID = "another-id"
	err := s.SaveToken(ctx, dup)
	if !errors.Is(err, tokenstore.ErrConflict) {
		t.Errorf("SaveToken of a stored user under a new ID = %v, want ErrConflict", err)
	}
	all, err := s.GetTokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 {
		t.Errorf("store holds %d tokens, want 1", len(all))
	}
}

func testMultiUser(t *testing.T, e *env) {
	ctx := t.Context()
	s := e.store()
	const n = 5
	users := make([]*tokenstore.Token, n)
	for i := range users {
		users[i] = user(i)
		saveAll(t, s, users[i])
	}
	saveAll(t, s, &tokenstore.Token{UserName: users[2].UserName, AccessToken: "1000.user2-new"})
	users[2].AccessToken = "1000.user2-new"
	for _, u := range users {
		got, err := s.FindToken(ctx, &tokenstore.Token{UserName: u.UserName})
		if err != nil {
			t.Fatalf("FindToken(%v): %v", u, err)
		}
		sameFields(t, got, u)
	}
	all, err := s.GetTokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != n {
		t.Errorf("GetTokens returned %d tokens, want %d", len(all), n)
	}
}

func testNamespaces(t *testing.T, e *env) {
	ctx := t.Context()
	s1, s2 := e.store(), e.store()
	a1, a2 := user(1), user(1)
	a2.AccessToken = "1000.access-in-ns2"
	saveAll(t, s1, a1)
	saveAll(t, s2, a2, user(2))

	for _, tc := range []struct {
		s    tokenstore.TokenStore
		want *tokenstore.Token
		n    int
	}{{s1, a1, 1}, {s2, a2, 2}} {
		got, err := tc.s.FindToken(ctx, &tokenstore.Token{UserName: a1.UserName})
		if err != nil {
			t.Fatal(err)
		}
		sameFields(t, got, tc.want)
		all, err := tc.s.GetTokens(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != tc.n {
			t.Errorf("GetTokens returned %d tokens, want %d", len(all), tc.n)
		}
	}
	// One namespace's ID does not reach the other's token.
	if got, err := s2.FindTokenByID(ctx, a1.ID); err == nil && got.AccessToken == a1.AccessToken {
		t.Errorf("FindTokenByID in another namespace returned its token")
	}
	if a1.ID != a2.ID {
		if err := s2.DeleteToken(ctx, a1.ID); !errors.Is(err, tokenstore.ErrNotFound) {
			t.Errorf("DeleteToken of another namespace's ID = %v, want ErrNotFound", err)
		}
	}
	if err := s2.DeleteTokens(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := s1.FindTokenByID(ctx, a1.ID); err != nil {
		t.Errorf("DeleteTokens in one namespace deleted another's token: %v", err)
	} else {
		sameFields(t, got, a1)
	}
	if all, err := s2.GetTokens(ctx); err != nil || len(all) != 0 {
		t.Errorf("after DeleteTokens, GetTokens = %d tokens, %v; want none", len(all), err)
	}
}

func testGetAndDeleteTokens(t *testing.T, e *env) {
	ctx := t.Context()
	s := e.store()
	all, err := s.GetTokens(ctx)
	if err != nil || len(all) != 0 {
		t.Fatalf("GetTokens of an empty store = %d tokens, %v; want none", len(all), err)
	}
	if err := s.DeleteTokens(ctx); err != nil {
		t.Fatalf("DeleteTokens of an empty store: %v", err)
	}
	want := map[string]*tokenstore.Token{}
	for i := range 3 {
		u := user(i)
		saveAll(t, s, u)
		want[u.ID] = u
	}
	all, err = s.GetTokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(want) {
		t.Fatalf("GetTokens returned %d tokens, want %d", len(all), len(want))
	}
	for _, got := range all {
		w, ok := want[got.ID]
		if !ok {
			t.Fatalf("GetTokens returned unknown ID %q", got.ID)
		}
		sameFields(t, got, w)
	}
	if err := s.DeleteTokens(ctx); err != nil {
		t.Fatal(err)
	}
	if all, err = s.GetTokens(ctx); err != nil || len(all) != 0 {
		t.Errorf("GetTokens after DeleteTokens = %d tokens, %v; want none", len(all), err)
	}
	for id := range want {
		if _, err := s.FindTokenByID(ctx, id); !errors.Is(err, tokenstore.ErrNotFound) {
			t.Errorf("FindTokenByID(%q) after DeleteTokens = %v, want ErrNotFound", id, err)
		}
	}
	// The store is usable again.
	saveAll(t, s, user(7))
}

func testNotFound(t *testing.T, e *env) {
	ctx := t.Context()
	s := e.store()
	a := user(1)
	if _, err := s.FindToken(ctx, &tokenstore.Token{UserName: a.UserName}); !errors.Is(err, tokenstore.ErrNotFound) {
		t.Errorf("FindToken in an empty store = %v, want ErrNotFound", err)
	}
	if _, err := s.FindTokenByID(ctx, "no-such-id"); !errors.Is(err, tokenstore.ErrNotFound) {
		t.Errorf("FindTokenByID(unknown) = %v, want ErrNotFound", err)
	}
	if err := s.DeleteToken(ctx, "no-such-id"); !errors.Is(err, tokenstore.ErrNotFound) {
		t.Errorf("DeleteToken(unknown) = %v, want ErrNotFound", err)
	}
	saveAll(t, s, a)
	if err := s.DeleteToken(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteToken(ctx, a.ID); !errors.Is(err, tokenstore.ErrNotFound) {
		t.Errorf("second DeleteToken = %v, want ErrNotFound", err)
	}
	if _, err := s.FindToken(ctx, &tokenstore.Token{UserName: a.UserName}); !errors.Is(err, tokenstore.ErrNotFound) {
		t.Errorf("FindToken after DeleteToken = %v, want ErrNotFound", err)
	}
	if _, err := s.FindToken(ctx, &tokenstore.Token{ClientID: clientID, ClientSecret: clientSecret, RefreshToken: a.RefreshToken}); !errors.Is(err, tokenstore.ErrNotFound) {
		t.Errorf("FindToken(refresh token) after DeleteToken = %v, want ErrNotFound", err)
	}
	// A deleted user can be saved again.
	saveAll(t, s, user(1))
}

func testInvalidToken(t *testing.T, e *env) {
	ctx := t.Context()
	s := e.store()
	if err := s.SaveToken(ctx, nil); !errors.Is(err, tokenstore.ErrInvalidToken) {
		t.Errorf("SaveToken(nil) = %v, want ErrInvalidToken", err)
	}
	// Nothing would ever find this token again.
	orphan := &tokenstore.Token{RefreshToken: "1000.no-client", APIDomain: "https://www.zohoapis.com"}
	if err := s.SaveToken(ctx, orphan); !errors.Is(err, tokenstore.ErrInvalidToken) {
		t.Errorf("SaveToken(unidentifiable) = %v, want ErrInvalidToken", err)
	}
	if all, err := s.GetTokens(ctx); err != nil || len(all) != 0 {
		t.Errorf("after rejected saves GetTokens = %d tokens, %v; want none", len(all), err)
	}
}

// invalidIDs are rejected before any backend call.
var invalidIDs = []string{"", "../x", "a/b", "..", "a b", "a%2Fb", "a.b", "héllo", "名前", "id\x00", strings.Repeat("a", 200), strings.Repeat("b", tokenstore.MaxIDLength+1)}

func testInvalidID(t *testing.T, e *env) {
	ctx := t.Context()
	s := e.store()
	for _, id := range invalidIDs {
		if _, err := s.FindTokenByID(ctx, id); !errors.Is(err, tokenstore.ErrInvalidID) {
			t.Errorf("FindTokenByID(%q) = %v, want ErrInvalidID", id, err)
		}
		if err := s.DeleteToken(ctx, id); !errors.Is(err, tokenstore.ErrInvalidID) {
			t.Errorf("DeleteToken(%q) = %v, want ErrInvalidID", id, err)
		}
		if id == "" {
			continue // an empty ID asks SaveToken to assign one
		}
		tok := user(1)
		tok.ID = id
		if err := s.SaveToken(ctx, tok); !errors.Is(err, tokenstore.ErrInvalidID) {
			t.Errorf("SaveToken(ID %q) = %v, want ErrInvalidID", id, err)
		}
	}
	if all, err := s.GetTokens(ctx); err != nil || len(all) != 0 {
		t.Errorf("after rejected saves GetTokens = %d tokens, %v; want none", len(all), err)
	}
	// The longest valid ID works.
	tok := user(2)
	tok.ID = strings.Repeat("Z", tokenstore.MaxIDLength)
	saveAll(t, s, tok)
}

// oversize is an access token no secret manager holds.
var oversize = strings.Repeat("x", 70_000)

func testTooLarge(t *testing.T, e *env) {
	ctx := t.Context()
	s := e.store()
	big := user(1)
	big.AccessToken = oversize
	if err := s.SaveToken(ctx, big); !errors.Is(err, tokenstore.ErrTooLarge) {
		t.Errorf("SaveToken(70 kB token) = %v, want ErrTooLarge", err)
	}
	if _, err := s.FindToken(ctx, &tokenstore.Token{UserName: big.UserName}); !errors.Is(err, tokenstore.ErrNotFound) {
		t.Errorf("FindToken after a rejected save = %v, want ErrNotFound", err)
	}
	// An update that would grow a stored token too far loses nothing.
	a := user(2)
	saveAll(t, s, a)
	if err := s.SaveToken(ctx, &tokenstore.Token{ID: a.ID, Extra: map[string]string{"blob": oversize}}); !errors.Is(err, tokenstore.ErrTooLarge) {
		t.Errorf("SaveToken(oversize update) = %v, want ErrTooLarge", err)
	}
	got, err := s.FindTokenByID(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameFields(t, got, a)

	// Each part fits; merged, they do not.
	half := strings.Repeat("h", 40_000)
	b := user(3)
	b.Extra["blob"] = half
	saveAll(t, s, b)
	if err := s.SaveToken(ctx, &tokenstore.Token{UserName: b.UserName, AccessToken: half}); !errors.Is(err, tokenstore.ErrTooLarge) {
		t.Errorf("SaveToken(update that merges to 80 kB) = %v, want ErrTooLarge", err)
	}
	got, err = s.FindTokenByID(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameFields(t, got, b)
}

func testReturnsCopies(t *testing.T, e *env) {
	ctx := t.Context()
	s := e.store()
	a := user(1)
	saveAll(t, s, a)
	a.AccessToken = "changed-after-save"
	a.Extra["location"] = "changed-after-save"
	got, err := s.FindTokenByID(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameFields(t, got, user(1))
	got.RefreshToken = "changed-after-find"
	got.Extra["session"] = "changed-after-find"
	again, err := s.FindTokenByID(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameFields(t, again, user(1))
}

func testErrorsHoldNoSecrets(t *testing.T, e *env) {
	ctx := t.Context()
	s := e.store()
	a := user(1)
	saveAll(t, s, a)
	sec := secrets(user(9))
	q := user(9)
	var errs []error
	_, err := s.FindToken(ctx, q)
	errs = append(errs, err)
	_, err = s.FindToken(ctx, &tokenstore.Token{ClientID: clientID, ClientSecret: clientSecret, RefreshToken: q.RefreshToken, GrantToken: q.GrantToken})
	errs = append(errs, err)
	_, err = s.FindToken(ctx, &tokenstore.Token{AccessToken: q.AccessToken})
	errs = append(errs, err)
	_, err = s.FindToken(ctx, &tokenstore.Token{AccessToken: q.AccessToken, ClientSecret: clientSecret})
	errs = append(errs, err)
	big := user(9)
	big.Extra["blob"] = oversize
	errs = append(errs, s.SaveToken(ctx, big))
	dup := user(1)
	dup.ID = "other"
	errs = append(errs, s.SaveToken(ctx, dup))
	bad := user(9)
	bad.ID = "../" + q.RefreshToken
	errs = append(errs, s.SaveToken(ctx, bad))
	sec = append(sec, secrets(a)...)
	for i, err := range errs {
		if err == nil {
			t.Errorf("case %d: want an error", i)
			continue
		}
		if leaked, ok := leaks(err.Error(), sec); ok {
			t.Errorf("error %q contains the secret %q", err, leaked)
		}
	}
}

func testCanceledContext(t *testing.T, e *env) {
	s := e.store()
	a := user(1)
	saveAll(t, s, a)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.SaveToken(ctx, user(2)); err == nil {
		t.Error("SaveToken with a canceled context succeeded")
	}
	if _, err := s.FindToken(ctx, &tokenstore.Token{UserName: a.UserName}); err == nil {
		t.Error("FindToken with a canceled context succeeded")
	}
	if err := s.DeleteTokens(ctx); err == nil {
		t.Error("DeleteTokens with a canceled context succeeded")
	}
	if _, err := s.FindTokenByID(t.Context(), a.ID); err != nil {
		t.Errorf("token lost after canceled calls: %v", err)
	}
}

// testNoDuplicates races 8 stores × 16 goroutines saving one new user, each
// with an access token of its own: every call succeeds and one token is left.
func testNoDuplicates(t *testing.T, e *env) {
	const stores, goroutines = 8, 16
	ctx := t.Context()
	ns := newNamespace(t)
	var wg sync.WaitGroup
	errs := make(chan error, stores*goroutines)
	access := make(map[string]bool)
	for i := range stores {
		s := e.storeIn(ns)
		for j := range goroutines {
			tok := user(1)
			tok.AccessToken = fmt.Sprintf("1000.access-%d-%d", i, j)
			access[tok.AccessToken] = true
			wg.Go(func() { errs <- s.SaveToken(ctx, tok) })
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent SaveToken: %v", err)
		}
	}
	all, err := e.storeIn(ns).GetTokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 {
		t.Fatalf("concurrent saves of one user left %d tokens, want 1", len(all))
	}
	if !access[all[0].AccessToken] || all[0].UserName != user(1).UserName {
		t.Errorf("the token left is not one of those saved: %v", all[0])
	}
}
