package tokenstore_test

import (
	"errors"
	"testing"

	"golang.org/x/oauth2"

	"github.com/tokenstore-go/tokenstore"
)

func TestZohoEndpoints(t *testing.T) {
	for _, tc := range []struct {
		ep       oauth2.Endpoint
		accounts string
	}{
		{tokenstore.ZohoUS, "https://accounts.zoho.com"},
		{tokenstore.ZohoEU, "https://accounts.zoho.eu"},
		{tokenstore.ZohoIN, "https://accounts.zoho.in"},
		{tokenstore.ZohoAU, "https://accounts.zoho.com.au"},
		{tokenstore.ZohoCN, "https://accounts.zoho.com.cn"},
		{tokenstore.ZohoJP, "https://accounts.zoho.jp"},
		{tokenstore.ZohoSA, "https://accounts.zoho.sa"},
		{tokenstore.ZohoUK, "https://accounts.zoho.uk"},
		{tokenstore.ZohoCA, "https://accounts.zohocloud.ca"},
	} {
		if tc.ep.AuthURL != tc.accounts+"/oauth/v2/auth" || tc.ep.TokenURL != tc.accounts+"/oauth/v2/token" || tc.ep.AuthStyle != oauth2.AuthStyleInParams {
			t.Errorf("%s: endpoint %+v", tc.accounts, tc.ep)
		}
		for _, server := range []string{tc.accounts, tc.accounts + "/"} {
			if got, err := tokenstore.ZohoEndpoint(server); err != nil || got != tc.ep {
				t.Errorf("ZohoEndpoint(%q) = %+v, %v", server, got, err)
			}
		}
		if r := tokenstore.ZohoRevocation(tc.ep); r.URL != tc.accounts+"/oauth/v2/token/revoke" || !r.TokenInQuery {
			t.Errorf("ZohoRevocation(%s) = %+v", tc.accounts, r)
		}
	}
}

func TestZohoEndpointRejectsOtherServers(t *testing.T) {
	for _, s := range []string{
		"", "accounts.zoho.com", "http://accounts.zoho.com", "https://accounts.zoho.com.evil.example",
		"https://evil.example/accounts.zoho.com", "https://user@accounts.zoho.com", "https://accounts.zoho.com/x",
		"https://accounts.zoho.com?next=x",
	} {
		if _, err := tokenstore.ZohoEndpoint(s); !errors.Is(err, tokenstore.ErrInvalidOptions) {
			t.Errorf("ZohoEndpoint(%q): %v, want ErrInvalidOptions", s, err)
		}
	}
}
