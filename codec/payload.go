package codec

import (
	"encoding/binary"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/tokenstore-go/tokenstore"
)

// The payload is the token as the sealed format encrypts it: a compact binary
// encoding rather than JSON, since no one reads ciphertext in a console and
// parsing JSON would cost more than all the cryptography (about 5 µs for
// 1 KB with encoding/json against 0.4 µs for AES-GCM).
//
// A payload is a sequence of fields in increasing tag order, each present
// only when the token's field is set:
//
//	tag 1-6, 8-12  string field (see tokenFields): uvarint length, bytes
//	tag 7          expiry: signed varint of epoch milliseconds
//	tag 13         one Extra entry: uvarint length, key, uvarint length, value;
//	               repeated once per entry, keys distinct, written in key
//	               order and read in any
//
// Strings are bytes, not necessarily UTF-8. The payload has no version of its
// own: it is that of the sealed envelope around it.
const (
	tagExpiry = 7
	tagExtra  = 13
)

// fieldByTag maps a string field's tag to its index in tokenFields, or -1.
var fieldByTag = func() (m [tagExtra + 1]int8) {
	for i := range m {
		m[i] = -1
	}
	for i, f := range tokenFields {
		m[f.tag] = int8(i)
	}
	return m
}()

// payloadSize returns the exact size appendPayload adds.
func payloadSize(t *tokenstore.Token) int {
	n := 0
	for i := range tokenFields {
		if s := *tokenFields[i].get(t); s != "" {
			n += 1 + uvarintLen(len(s)) + len(s)
		}
	}
	if !t.Expiry.IsZero() {
		var b [binary.MaxVarintLen64]byte
		n += 1 + binary.PutVarint(b[:], t.Expiry.UnixMilli())
	}
	for k, v := range t.Extra {
		n += 1 + uvarintLen(len(k)) + len(k) + uvarintLen(len(v)) + len(v)
	}
	return n
}

func uvarintLen(n int) int {
	l := 1
	for ; n >= 0x80; n >>= 7 {
		l++
	}
	return l
}

func appendPayload(dst []byte, t *tokenstore.Token) []byte {
	for i := range tokenFields {
		f := &tokenFields[i]
		if f.tag > tagExpiry {
			break
		}
		dst = appendStringField(dst, f.tag, *f.get(t))
	}
	if !t.Expiry.IsZero() {
		dst = append(dst, tagExpiry)
		dst = binary.AppendVarint(dst, t.Expiry.UnixMilli())
	}
	for i := range tokenFields {
		if f := &tokenFields[i]; f.tag > tagExpiry {
			dst = appendStringField(dst, f.tag, *f.get(t))
		}
	}
	switch len(t.Extra) {
	case 0:
	case 1:
		for k, v := range t.Extra {
			dst = appendExtra(dst, k, v)
		}
	default:
		// In key order, so that a token has one payload: tests and fuzz
		// seeds depend on it, and a sort is cheap next to sealing.
		for _, k := range slices.Sorted(maps.Keys(t.Extra)) {
			dst = appendExtra(dst, k, t.Extra[k])
		}
	}
	return dst
}

func appendExtra(dst []byte, k, v string) []byte {
	dst = append(dst, tagExtra)
	dst = appendString(dst, k)
	return appendString(dst, v)
}

func appendStringField(dst []byte, tag byte, s string) []byte {
	if s == "" {
		return dst
	}
	return appendString(append(dst, tag), s)
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

var errPayload = errors.New("bad payload")

// parsePayload decodes a payload. All its strings share one allocation.
func parsePayload(p []byte) (*tokenstore.Token, error) {
	s := string(p)
	t := new(tokenstore.Token)
	var last byte
	for i := 0; i < len(p); {
		tag := p[i]
		i++
		if tag == 0 || tag > tagExtra || tag < last || tag == last && tag != tagExtra {
			return nil, errPayload
		}
		last = tag
		switch tag {
		case tagExpiry:
			ms, n := binary.Varint(p[i:])
			if n <= 0 {
				return nil, errPayload
			}
			i += n
			t.Expiry = time.UnixMilli(ms).UTC()
		case tagExtra:
			var k, v string
			var ok bool
			if k, i, ok = readString(p, s, i); !ok {
				return nil, errPayload
			}
			if v, i, ok = readString(p, s, i); !ok {
				return nil, errPayload
			}
			if t.Extra == nil {
				t.Extra = make(map[string]string)
			} else if _, dup := t.Extra[k]; dup {
				return nil, errPayload
			}
			t.Extra[k] = v
		default:
			var v string
			var ok bool
			if v, i, ok = readString(p, s, i); !ok || v == "" {
				return nil, errPayload // an empty field is left out, never written
			}
			*tokenFields[fieldByTag[tag]].get(t) = v
		}
	}
	return t, nil
}

// readString reads a length-prefixed string at p[i:], returning the
// substring of s, which holds the same bytes as p.
func readString(p []byte, s string, i int) (string, int, bool) {
	n, w := binary.Uvarint(p[i:])
	if w <= 0 || n > uint64(len(p)-i-w) {
		return "", 0, false
	}
	i += w
	return s[i : i+int(n)], i + int(n), true
}
