package gcpsm

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/tokenstore-go/tokenstore"
)

// The payload of a version is a header line, then the codec's output; see
// "Payload" in gcpsm.go. The header holds only lowercase [a-z0-9] values, so
// it stays one readable line.

const headerMagic = "tokenstore-gcpsm/1"

type header struct {
	inc   string
	index tokenstore.Index
}

// headerKinds fixes the order of the index values in a header.
var headerKinds = [...]tokenstore.IndexKind{
	tokenstore.IndexUserName, tokenstore.IndexAccessToken, tokenstore.IndexGrantToken, tokenstore.IndexRefreshToken,
}

// encodePayload frames value; it fails with ErrTooLarge beyond the API's
// payload limit, before any call.
func encodePayload(h header, value []byte) ([]byte, error) {
	var b bytes.Buffer
	b.Grow(len(headerMagic) + 300 + len(value))
	b.WriteString(headerMagic)
	b.WriteString(" inc=")
	b.WriteString(h.inc)
	for _, kind := range headerKinds {
		if v := h.index.Get(kind); v != "" {
			if !labelValue(v) {
				return nil, fmt.Errorf("gcpsm: index value of kind %s is not a label value", kind)
			}
			fmt.Fprintf(&b, " %s=%s", kind, v)
		}
	}
	b.WriteByte('\n')
	b.Write(value)
	if b.Len() > MaxPayloadSize {
		return nil, fmt.Errorf("gcpsm: payload of %d bytes exceeds %d: %w", b.Len(), MaxPayloadSize, tokenstore.ErrTooLarge)
	}
	return b.Bytes(), nil
}

// parsePayload splits a payload into header and value. A payload without a
// well-formed header is all value, with no index and no incarnation.
func parsePayload(p []byte) (header, []byte) {
	line, rest, ok := bytes.Cut(p, []byte{'\n'})
	if !ok || !bytes.HasPrefix(line, []byte(headerMagic+" ")) {
		return header{}, p
	}
	var h header
	for _, f := range strings.Fields(string(line[len(headerMagic):])) {
		k, v, ok := strings.Cut(f, "=")
		if !ok || (v != "" && !labelValue(v)) {
			return header{}, p
		}
		switch tokenstore.IndexKind(k) {
		case "inc":
			h.inc = v
		case tokenstore.IndexUserName:
			h.index.UserName = v
		case tokenstore.IndexAccessToken:
			h.index.AccessToken = v
		case tokenstore.IndexGrantToken:
			h.index.GrantToken = v
		case tokenstore.IndexRefreshToken:
			h.index.RefreshToken = v
		default:
			return header{}, p
		}
	}
	return h, rest
}
