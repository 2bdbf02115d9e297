package tokenstore

import (
	"errors"
	"slices"
	"testing"
)

// TestMatchKeys is the matching precedence as the Zoho SDKs state it.
func TestMatchKeys(t *testing.T) {
	const u, at, gt, rt, id, sec = "ada@example.com:1", "access", "grant", "refresh", "client-id", "client-secret"
	tests := []struct {
		rule  string
		query *Token
		want  []lookupKey // nil: ErrInvalidToken
	}{
		{"1. a user name matches on the user name only",
			&Token{UserName: u, AccessToken: at, GrantToken: gt, RefreshToken: rt, ClientID: id, ClientSecret: sec},
			[]lookupKey{{IndexUserName, u}}},
		{"2. else an access token with no client ID or secret matches on the access token",
			&Token{AccessToken: at, RefreshToken: rt},
			[]lookupKey{{IndexAccessToken, at}}},
		{"2. not with a client ID", &Token{AccessToken: at, ClientID: id}, nil},
		{"2. not with a client secret", &Token{AccessToken: at, ClientSecret: sec}, nil},
		{"3. else a grant token with client ID and secret matches on the grant token",
			&Token{GrantToken: gt, ClientID: id, ClientSecret: sec},
			[]lookupKey{{IndexGrantToken, gt}}},
		{"3. a refresh token with client ID and secret matches on the refresh token",
			&Token{RefreshToken: rt, AccessToken: at, ClientID: id, ClientSecret: sec},
			[]lookupKey{{IndexRefreshToken, rt}}},
		{"3. both: the grant token first, then the refresh token",
			&Token{GrantToken: gt, RefreshToken: rt, ClientID: id, ClientSecret: sec},
			[]lookupKey{{IndexGrantToken, gt}, {IndexRefreshToken, rt}}},
		{"3. not without the client secret", &Token{RefreshToken: rt, ClientID: id}, nil},
		{"3. not without the client ID", &Token{GrantToken: gt, ClientSecret: sec}, nil},
		{"4. else nothing identifies the user", &Token{ClientID: id, ClientSecret: sec, APIDomain: "x"}, nil},
		{"4. an empty token identifies nothing", &Token{}, nil},
		{"4. nil identifies nothing", nil, nil},
	}
	for _, tc := range tests {
		got, err := matchKeys(tc.query)
		if tc.want == nil {
			if !errors.Is(err, ErrInvalidToken) {
				t.Errorf("%s: matchKeys = %v, %v; want ErrInvalidToken", tc.rule, got, err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s: matchKeys = %v, %v; want %v", tc.rule, got, err, tc.want)
		}
	}
}
