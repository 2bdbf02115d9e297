package codec

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"time"

	"github.com/tokenstore-go/tokenstore"
)

// plainVersion is the version of the plain format this package writes.
const plainVersion = 1

// plainV1 is the plain format, version 1; see the package doc.
type plainV1 struct {
	V            int               `json:"v"`
	Namespace    string            `json:"ns"`
	ID           string            `json:"id"`
	UserName     string            `json:"user_name,omitempty"`
	ClientID     string            `json:"client_id,omitempty"`
	ClientSecret string            `json:"client_secret,omitempty"`
	RefreshToken string            `json:"refresh_token,omitempty"`
	AccessToken  string            `json:"access_token,omitempty"`
	GrantToken   string            `json:"grant_token,omitempty"`
	ExpiryTime   int64             `json:"expiry_time,omitempty"`
	RedirectURL  string            `json:"redirect_url,omitempty"`
	APIDomain    string            `json:"api_domain,omitempty"`
	TokenType    string            `json:"token_type,omitempty"`
	Scope        string            `json:"scope,omitempty"`
	IDToken      string            `json:"id_token,omitempty"`
	Extra        map[string]string `json:"extra,omitempty"`
}

func encodePlain(t *tokenstore.Token, b tokenstore.Binding) ([]byte, error) {
	p := plainV1{
		V:            plainVersion,
		Namespace:    b.Namespace,
		ID:           b.ID,
		UserName:     t.UserName,
		ClientID:     t.ClientID,
		ClientSecret: t.ClientSecret,
		RefreshToken: t.RefreshToken,
		AccessToken:  t.AccessToken,
		GrantToken:   t.GrantToken,
		RedirectURL:  t.RedirectURL,
		APIDomain:    t.APIDomain,
		TokenType:    t.TokenType,
		Scope:        t.Scope,
		IDToken:      t.IDToken,
		Extra:        t.Extra,
	}
	if !t.Expiry.IsZero() {
		p.ExpiryTime = t.Expiry.UnixMilli()
	}
	return json.Marshal(&p)
}

func decodePlain(data []byte, b tokenstore.Binding) (*tokenstore.Token, error) {
	var p plainV1
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err := dec.Decode(&p)
	if err == nil && dec.InputOffset() != int64(len(bytes.TrimRight(data, " \t\r\n"))) {
		err = errors.New("trailing data")
	}
	if err != nil {
		// A newer version may add members: report the version, not them.
		var v struct {
			V int `json:"v"`
		}
		switch {
		case json.Unmarshal(data, &v) == nil && v.V != 0 && v.V != plainVersion:
			return nil, ErrUnknownVersion
		case errors.Is(err, io.ErrUnexpectedEOF):
			return nil, ErrTruncated
		}
		return nil, ErrMalformed
	}
	switch p.V {
	case plainVersion:
	case 0:
		return nil, ErrMalformed
	default:
		return nil, ErrUnknownVersion
	}
	if p.Namespace != b.Namespace || p.ID != b.ID {
		return nil, ErrWrongSecret
	}
	t := &tokenstore.Token{
		ID:           b.ID,
		UserName:     p.UserName,
		ClientID:     p.ClientID,
		ClientSecret: p.ClientSecret,
		RefreshToken: p.RefreshToken,
		AccessToken:  p.AccessToken,
		GrantToken:   p.GrantToken,
		RedirectURL:  p.RedirectURL,
		APIDomain:    p.APIDomain,
		TokenType:    p.TokenType,
		Scope:        p.Scope,
		IDToken:      p.IDToken,
		Extra:        p.Extra,
	}
	if p.ExpiryTime != 0 {
		t.Expiry = time.UnixMilli(p.ExpiryTime).UTC()
	}
	return t, nil
}
