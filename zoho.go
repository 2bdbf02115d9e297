package tokenstore

import (
	"fmt"
	"net/url"
	"strings"

	"golang.org/x/oauth2"
)

// Zoho's accounts servers, one per data center, as oauth2.Endpoints. Zoho
// wants the client ID and secret as form parameters, so AuthStyle is set and
// x/oauth2 does not probe. The token response's api_domain (the account's
// API host, such as https://www.zohoapis.eu) is stored in Token.APIDomain:
// send API requests there, not to a fixed host.
var (
	ZohoUS = zohoEndpoint("https://accounts.zoho.com")
	ZohoEU = zohoEndpoint("https://accounts.zoho.eu")
	ZohoIN = zohoEndpoint("https://accounts.zoho.in")
	ZohoAU = zohoEndpoint("https://accounts.zoho.com.au")
	ZohoCN = zohoEndpoint("https://accounts.zoho.com.cn")
	ZohoJP = zohoEndpoint("https://accounts.zoho.jp")
	ZohoSA = zohoEndpoint("https://accounts.zoho.sa")
	ZohoUK = zohoEndpoint("https://accounts.zoho.uk")
	// ZohoCA is Canada's data center, on its own domain zohocloud.ca.
	ZohoCA = zohoEndpoint("https://accounts.zohocloud.ca")
)

// zohoAccounts lists every Zoho accounts server, for ZohoEndpoint.
var zohoAccounts = []oauth2.Endpoint{ZohoUS, ZohoEU, ZohoIN, ZohoAU, ZohoCN, ZohoJP, ZohoSA, ZohoUK, ZohoCA}

func zohoEndpoint(accounts string) oauth2.Endpoint {
	return oauth2.Endpoint{
		AuthURL:   accounts + "/oauth/v2/auth",
		TokenURL:  accounts + "/oauth/v2/token",
		AuthStyle: oauth2.AuthStyleInParams,
	}
}

// ZohoEndpoint returns the endpoint of a Zoho accounts server, such as the
// accounts-server parameter Zoho adds to the redirect after consent
// ("https://accounts.zoho.eu"). Only Zoho's own servers are accepted: the
// parameter arrives through the user's browser, and the client secret is
// sent to the endpoint it selects.
func ZohoEndpoint(accountsServer string) (oauth2.Endpoint, error) {
	u, err := url.Parse(strings.TrimSpace(accountsServer))
	if err == nil && u.Scheme == "https" && (u.Path == "" || u.Path == "/") && u.RawQuery == "" && u.User == nil {
		for _, ep := range zohoAccounts {
			if strings.HasPrefix(ep.TokenURL, "https://"+strings.ToLower(u.Host)+"/") {
				return ep, nil
			}
		}
	}
	return oauth2.Endpoint{}, fmt.Errorf("tokenstore: %q is not a Zoho accounts server: %w", accountsServer, ErrInvalidOptions)
}

// ZohoRevocation returns the revocation endpoint of the Zoho accounts
// server of ep, such as ZohoEU, for TokenSourceOptions.Revocation.
func ZohoRevocation(ep oauth2.Endpoint) *Revocation {
	return &Revocation{URL: ep.TokenURL + "/revoke", TokenInQuery: true}
}
