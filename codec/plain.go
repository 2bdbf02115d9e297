package codec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/tokenstore-go/tokenstore"
)

// plainVersion is the version of the plain format this package writes.
const plainVersion = 1

// plainV1 is the plain format, version 1, as Encode writes it; see the
// package doc. Decoding does not use it: encoding/json matches member names
// without regard to case, takes the last of duplicate members and reads
// null as empty, none of which a strict, documented format should allow.
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
	ExpiryTime   *int64            `json:"expiry_time,omitempty"` // a pointer, so that the epoch itself is kept
	RedirectURL  string            `json:"redirect_url,omitempty"`
	APIDomain    string            `json:"api_domain,omitempty"`
	TokenType    string            `json:"token_type,omitempty"`
	Scope        string            `json:"scope,omitempty"`
	IDToken      string            `json:"id_token,omitempty"`
	Extra        map[string]string `json:"extra,omitempty"`
}

func encodePlain(t *tokenstore.Token, b tokenstore.Binding) ([]byte, error) {
	if err := checkToken(t, true); err != nil {
		return nil, err
	}
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
		ms := t.Expiry.UnixMilli()
		p.ExpiryTime = &ms
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// The value is read in consoles: keep "&" in a redirect URL as it is
	// rather than \u0026. Nothing renders it as HTML.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&p); err != nil {
		return nil, fmt.Errorf("codec: %w", err) // not reached: every member is a string or a number
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// checkToken rejects a token that a format cannot store faithfully. Only the
// plain format needs UTF-8: JSON strings are Unicode text, and encoding/json
// would silently turn other bytes into U+FFFD, changing a secret.
func checkToken(t *tokenstore.Token, needUTF8 bool) error {
	if t == nil {
		return fmt.Errorf("codec: nil token: %w", tokenstore.ErrInvalidToken)
	}
	if !t.Expiry.IsZero() {
		// UnixMilli overflows int64 some 292 million years out.
		if ms := t.Expiry.UnixMilli(); !time.UnixMilli(ms).Equal(t.Expiry.Truncate(time.Millisecond)) {
			return fmt.Errorf("%w: expiry_time is out of range", ErrInvalidField)
		}
	}
	if !needUTF8 {
		return nil
	}
	for i := range tokenFields {
		if f := &tokenFields[i]; !utf8.ValidString(*f.get(t)) {
			return fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalidField, f.name)
		}
	}
	for k, v := range t.Extra {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			// The key may be a secret too; say only where the problem is.
			return fmt.Errorf("%w: a key or value of extra is not valid UTF-8", ErrInvalidField)
		}
	}
	return nil
}

// tokenField is a string field of a Token, with its name in the plain format
// and its tag in the sealed one.
type tokenField struct {
	name string
	tag  byte
	get  func(*tokenstore.Token) *string
}

// tokenFields lists the string fields of a Token in the order of the format.
// Tags are part of the sealed format: never renumber them.
var tokenFields = [...]tokenField{
	{"user_name", 1, func(t *tokenstore.Token) *string { return &t.UserName }},
	{"client_id", 2, func(t *tokenstore.Token) *string { return &t.ClientID }},
	{"client_secret", 3, func(t *tokenstore.Token) *string { return &t.ClientSecret }},
	{"refresh_token", 4, func(t *tokenstore.Token) *string { return &t.RefreshToken }},
	{"access_token", 5, func(t *tokenstore.Token) *string { return &t.AccessToken }},
	{"grant_token", 6, func(t *tokenstore.Token) *string { return &t.GrantToken }},
	{"redirect_url", 8, func(t *tokenstore.Token) *string { return &t.RedirectURL }},
	{"api_domain", 9, func(t *tokenstore.Token) *string { return &t.APIDomain }},
	{"token_type", 10, func(t *tokenstore.Token) *string { return &t.TokenType }},
	{"scope", 11, func(t *tokenstore.Token) *string { return &t.Scope }},
	{"id_token", 12, func(t *tokenstore.Token) *string { return &t.IDToken }},
}

// Members of the plain format that are not string fields of a Token.
const (
	memberVersion   = "v"
	memberNamespace = "ns"
	memberID        = "id"
	memberExpiry    = "expiry_time"
	memberExtra     = "extra"
)

// plainDecoder reads the plain format strictly, one JSON token at a time.
type plainDecoder struct {
	dec     *json.Decoder
	version int64 // 0 until "v" is read
}

// errBadMember marks a member this version does not define, or a duplicate.
var errBadMember = errors.New("bad member")

func decodePlain(data []byte, b tokenstore.Binding) (*tokenstore.Token, error) {
	d := plainDecoder{dec: json.NewDecoder(bytes.NewReader(data))}
	d.dec.UseNumber()
	t, ns, id, err := d.object()
	if err == nil {
		// Only white space may follow the object.
		if _, terr := d.dec.Token(); terr != io.EOF {
			err = errors.New("trailing data")
		}
	}
	switch {
	case d.version != 0 && d.version != plainVersion:
		// A newer version may add members or change anything after "v":
		// report the version, not what this one fails to read.
		return nil, ErrUnknownVersion
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return nil, ErrTruncated
	case err != nil:
		return nil, ErrMalformed
	case d.version == 0:
		return nil, ErrMalformed
	case ns != b.Namespace || id != b.ID:
		return nil, ErrWrongSecret
	}
	t.ID = b.ID
	return t, nil
}

// object reads the top-level object. It reads on past a member it does not
// know, so that a "v" after it is still found.
func (d *plainDecoder) object() (t *tokenstore.Token, ns, id string, err error) {
	if err := d.delim('{'); err != nil {
		return nil, "", "", err
	}
	t = new(tokenstore.Token)
	var seen uint32 // bit i: tokenFields[i]; then the other members
	const (
		seenV = 1 << (len(tokenFields) + iota)
		seenNS
		seenID
		seenExpiry
		seenExtra
	)
	var bad error
	for d.dec.More() {
		key, err := d.str()
		if err != nil {
			return nil, "", "", err
		}
		field := -1
		var bit uint32
		switch key {
		case memberVersion:
			bit = seenV
		case memberNamespace:
			bit = seenNS
		case memberID:
			bit = seenID
		case memberExpiry:
			bit = seenExpiry
		case memberExtra:
			bit = seenExtra
		default:
			for i := range tokenFields {
				if tokenFields[i].name == key {
					field, bit = i, 1<<i
					break
				}
			}
		}
		if bit == 0 || seen&bit != 0 {
			// Unknown or duplicate: read on, since a "v" further on may
			// show the value is of a newer version.
			bad = errBadMember
			if err := d.skip(); err != nil {
				return nil, "", "", err
			}
			continue
		}
		seen |= bit
		switch bit {
		case seenV:
			d.version, err = d.int()
			if err == nil && d.version == 0 {
				err = errors.New("version 0")
			}
		case seenNS:
			ns, err = d.str()
		case seenID:
			id, err = d.str()
		case seenExpiry:
			var ms int64
			if ms, err = d.int(); err == nil {
				t.Expiry = time.UnixMilli(ms).UTC()
			}
		case seenExtra:
			t.Extra, err = d.extra()
		default:
			*tokenFields[field].get(t), err = d.str()
		}
		if err != nil {
			return nil, "", "", err
		}
	}
	if err := d.delim('}'); err != nil {
		return nil, "", "", err
	}
	if bad != nil {
		return nil, "", "", bad
	}
	return t, ns, id, nil
}

// extra reads the object of extra string members.
func (d *plainDecoder) extra() (map[string]string, error) {
	if err := d.delim('{'); err != nil {
		return nil, err
	}
	var m map[string]string
	for d.dec.More() {
		k, err := d.str()
		if err != nil {
			return nil, err
		}
		v, err := d.str()
		if err != nil {
			return nil, err
		}
		if _, dup := m[k]; dup {
			return nil, errBadMember
		}
		if m == nil {
			m = make(map[string]string)
		}
		m[k] = v
	}
	return m, d.delim('}')
}

// next reads one JSON token; running out of input inside a value is io.EOF
// or io.ErrUnexpectedEOF.
func (d *plainDecoder) next() (json.Token, error) {
	return d.dec.Token()
}

func (d *plainDecoder) delim(want json.Delim) error {
	tok, err := d.next()
	if err != nil {
		return err
	}
	if tok != want {
		return errors.New("unexpected token")
	}
	return nil
}

func (d *plainDecoder) str() (string, error) {
	tok, err := d.next()
	if err != nil {
		return "", err
	}
	s, ok := tok.(string)
	if !ok {
		return "", errors.New("not a string")
	}
	return s, nil
}

// int reads an integer; JSON allows 1.0 and 1e3 but the format does not.
func (d *plainDecoder) int() (int64, error) {
	tok, err := d.next()
	if err != nil {
		return 0, err
	}
	n, ok := tok.(json.Number)
	if !ok {
		return 0, errors.New("not a number")
	}
	return strconv.ParseInt(string(n), 10, 64)
}

// skip reads past one value of any kind.
func (d *plainDecoder) skip() error {
	depth := 0
	for {
		tok, err := d.next()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}
