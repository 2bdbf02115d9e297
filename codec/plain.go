package codec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	buf.Grow(plainSizeHint(t, b)) // one allocation instead of a doubling series
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

// plainDecoder reads the plain format strictly, in one pass over the bytes.
// encoding/json would match member names without regard to case, take the
// last of duplicate members and read null as an empty string; its token API,
// which could check those, costs three times its Unmarshal. Strings with
// escapes are still unquoted by encoding/json, so they mean exactly what
// they mean to any JSON reader.
type plainDecoder struct {
	data    []byte
	i       int
	depth   int   // of the value being skipped
	version int64 // 0 until "v" is read
}

var (
	// errBadMember marks a member this version does not define, or a
	// duplicate.
	errBadMember = errors.New("bad member")
	errSyntax    = errors.New("syntax error")
)

// maxSkipDepth bounds the nesting of a member's value that Decode skips
// over; encoding/json stops at 10000.
const maxSkipDepth = 100

func decodePlain(data []byte, b tokenstore.Binding) (*tokenstore.Token, error) {
	d := plainDecoder{data: data}
	t, ns, id, err := d.object()
	if err == nil {
		// Only white space may follow the object.
		if d.ws(); d.i != len(d.data) {
			err = errSyntax
		}
	}
	switch {
	case d.version != 0 && d.version != plainVersion:
		// A newer version may add members or change anything after "v":
		// report the version, not what this one fails to read.
		return nil, ErrUnknownVersion
	case errors.Is(err, io.ErrUnexpectedEOF):
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
	if err := d.consume('{'); err != nil {
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
	if c, err := d.peek(); err != nil {
		return nil, "", "", err
	} else if c == '}' {
		d.i++
		return t, "", "", nil
	}
	for {
		key, err := d.strBytes()
		if err != nil {
			return nil, "", "", err
		}
		if err := d.consume(':'); err != nil {
			return nil, "", "", err
		}
		field := -1
		var bit uint32
		switch string(key) {
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
				if tokenFields[i].name == string(key) {
					field, bit = i, 1<<i
					break
				}
			}
		}
		switch {
		case bit == 0 || seen&bit != 0:
			// Unknown or duplicate: read on, since a "v" further on may
			// show the value is of a newer version.
			bad = errBadMember
			err = d.skip()
		case bit == seenV:
			d.version, err = d.int()
			if err == nil && d.version == 0 {
				err = errSyntax
			}
		case bit == seenNS:
			ns, err = d.str()
		case bit == seenID:
			id, err = d.str()
		case bit == seenExpiry:
			var ms int64
			if ms, err = d.int(); err == nil {
				t.Expiry = time.UnixMilli(ms).UTC()
			}
		case bit == seenExtra:
			t.Extra, err = d.extra()
		default:
			*tokenFields[field].get(t), err = d.str()
		}
		if err != nil {
			return nil, "", "", err
		}
		seen |= bit
		if more, err := d.next('}'); err != nil {
			return nil, "", "", err
		} else if !more {
			break
		}
	}
	if bad != nil {
		return nil, "", "", bad
	}
	return t, ns, id, nil
}

// extra reads the object of extra string members.
func (d *plainDecoder) extra() (map[string]string, error) {
	if err := d.consume('{'); err != nil {
		return nil, err
	}
	if c, err := d.peek(); err != nil {
		return nil, err
	} else if c == '}' {
		d.i++
		return nil, nil
	}
	m := make(map[string]string)
	for {
		k, err := d.str()
		if err != nil {
			return nil, err
		}
		if err := d.consume(':'); err != nil {
			return nil, err
		}
		v, err := d.str()
		if err != nil {
			return nil, err
		}
		if _, dup := m[k]; dup {
			return nil, errBadMember
		}
		m[k] = v
		if more, err := d.next('}'); err != nil || !more {
			return m, err
		}
	}
}

// ws skips white space.
func (d *plainDecoder) ws() {
	for d.i < len(d.data) {
		switch d.data[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// peek returns the next byte after white space. Running out of input
// anywhere inside the value is io.ErrUnexpectedEOF: the value is truncated.
func (d *plainDecoder) peek() (byte, error) {
	d.ws()
	if d.i >= len(d.data) {
		return 0, io.ErrUnexpectedEOF
	}
	return d.data[d.i], nil
}

func (d *plainDecoder) consume(c byte) error {
	got, err := d.peek()
	if err != nil {
		return err
	}
	if got != c {
		return errSyntax
	}
	d.i++
	return nil
}

// next reads the ',' before another member or element (true), or the
// closing delimiter (false).
func (d *plainDecoder) next(closing byte) (bool, error) {
	c, err := d.peek()
	switch {
	case err != nil:
		return false, err
	case c == ',':
		d.i++
		return true, nil
	case c == closing:
		d.i++
		return false, nil
	}
	return false, errSyntax
}

// str reads a string.
func (d *plainDecoder) str() (string, error) {
	b, err := d.strBytes()
	return string(b), err
}

// strBytes reads a string, returning its bytes in data when it needs no
// unquoting: member names are compared without a copy.
func (d *plainDecoder) strBytes() ([]byte, error) {
	if err := d.consume('"'); err != nil {
		return nil, err
	}
	start, plain := d.i, true
	for d.i < len(d.data) {
		switch c := d.data[d.i]; {
		case c == '"':
			raw := d.data[start:d.i]
			d.i++
			if plain && utf8.Valid(raw) {
				return raw, nil
			}
			// Escapes, or bytes that are not UTF-8 (which JSON readers
			// take as U+FFFD): let encoding/json unquote.
			var s string
			if err := json.Unmarshal(d.data[start-1:d.i], &s); err != nil {
				return nil, errSyntax
			}
			return []byte(s), nil
		case c == '\\':
			plain = false
			d.i += 2
		case c < 0x20:
			return nil, errSyntax
		default:
			d.i++
		}
	}
	return nil, io.ErrUnexpectedEOF
}

// int reads a number that must be an integer; JSON allows 1.0 and 1e3 but
// the format does not.
func (d *plainDecoder) int() (int64, error) {
	if _, err := d.peek(); err != nil {
		return 0, err
	}
	neg := d.data[d.i] == '-'
	if neg {
		d.i++
	}
	start := d.i
	var n uint64
	for ; d.i < len(d.data) && '0' <= d.data[d.i] && d.data[d.i] <= '9'; d.i++ {
		if n > (1<<63)/10 {
			return 0, errSyntax // overflow
		}
		n = n*10 + uint64(d.data[d.i]-'0')
	}
	switch {
	case d.i == len(d.data):
		return 0, io.ErrUnexpectedEOF
	case d.i == start, d.i-start > 1 && d.data[start] == '0':
		return 0, errSyntax // no digits, or a leading zero
	case n > 1<<63, n == 1<<63 && !neg:
		return 0, errSyntax // overflow
	}
	switch d.data[d.i] {
	case '.', 'e', 'E':
		return 0, errSyntax
	}
	if neg {
		return -int64(n), nil
	}
	return int64(n), nil
}

// skip reads past one value of any kind.
func (d *plainDecoder) skip() error {
	c, err := d.peek()
	if err != nil {
		return err
	}
	switch {
	case c == '"':
		_, err := d.str()
		return err
	case c == '{', c == '[':
		closing := byte('}')
		if c == '[' {
			closing = ']'
		}
		if d.depth++; d.depth > maxSkipDepth {
			return errSyntax
		}
		defer func() { d.depth-- }()
		d.i++
		if c, err := d.peek(); err != nil {
			return err
		} else if c == closing {
			d.i++
			return nil
		}
		for {
			if closing == '}' {
				if _, err := d.str(); err != nil {
					return err
				}
				if err := d.consume(':'); err != nil {
					return err
				}
			}
			if err := d.skip(); err != nil {
				return err
			}
			if more, err := d.next(closing); err != nil || !more {
				return err
			}
		}
	case c == '-' || '0' <= c && c <= '9':
		return d.number()
	}
	for _, lit := range []string{"true", "false", "null"} {
		if c == lit[0] {
			rest := d.data[d.i:]
			if len(rest) < len(lit) {
				if string(rest) == lit[:len(rest)] {
					return io.ErrUnexpectedEOF
				}
				return errSyntax
			}
			if string(rest[:len(lit)]) != lit {
				return errSyntax
			}
			d.i += len(lit)
			return nil
		}
	}
	return errSyntax
}

// number reads past a JSON number of any form.
func (d *plainDecoder) number() error {
	if d.data[d.i] == '-' {
		d.i++
	}
	digits := func() (int, error) {
		start := d.i
		for d.i < len(d.data) && '0' <= d.data[d.i] && d.data[d.i] <= '9' {
			d.i++
		}
		if d.i == len(d.data) {
			return 0, io.ErrUnexpectedEOF // a value never ends with a number
		}
		if d.i == start {
			return 0, errSyntax
		}
		return d.i - start, nil
	}
	start := d.i
	n, err := digits()
	if err != nil {
		return err
	}
	if n > 1 && d.data[start] == '0' {
		return errSyntax
	}
	if d.data[d.i] == '.' {
		d.i++
		if _, err := digits(); err != nil {
			return err
		}
	}
	if c := d.data[d.i]; c == 'e' || c == 'E' {
		d.i++
		if d.i < len(d.data) && (d.data[d.i] == '+' || d.data[d.i] == '-') {
			d.i++
		}
		if _, err := digits(); err != nil {
			return err
		}
	}
	return nil
}

// plainSizeHint is a little more than the plain encoding of t usually takes:
// the values, plus room for member names, quotes and a few escapes.
func plainSizeHint(t *tokenstore.Token, b tokenstore.Binding) int {
	n := 320 + len(b.Namespace) + len(b.ID) + len(t.UserName) + len(t.ClientID) +
		len(t.ClientSecret) + len(t.RefreshToken) + len(t.AccessToken) + len(t.GrantToken) +
		len(t.RedirectURL) + len(t.APIDomain) + len(t.TokenType) + len(t.Scope) + len(t.IDToken)
	for k, v := range t.Extra {
		n += len(k) + len(v) + 6
	}
	return n + n/16
}
