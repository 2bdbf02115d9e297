package awssm

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/tokenstore-go/tokenstore"
)

// A secret's value is a small JSON document around the codec's output:
//
//	{"tokenstore":"awssm/1","write":"<32 hex>","index":{"user":"<hash>",...},"token":<codec output>}
//
// The codec's output is embedded as it is when it is a JSON object (the
// plain codec's, so the console still shows a readable token), else as a
// JSON string (the sealed codec's text form).
//
// Why not the codec's output alone: GetSecretValue and BatchGetSecretValue
// return no tags, so without the index in the value a read would need a
// DescribeSecret call as well to return the entry's Index, and an update
// would need one to know which tags to change. And "write", random per
// write, makes the values of any two writes differ, which is what turns
// PutSecretValue's idempotency token into a compare-and-swap (see put).
// The tags hold the same index values, for BatchGetSecretValue's filters.
const valueFormat = "awssm/1"

// maxSecretString is the AWS limit on SecretString.
const maxSecretString = 65536

type valueDoc struct {
	Format string            `json:"tokenstore"`
	Write  string            `json:"write"`
	Index  map[string]string `json:"index,omitempty"`
	Token  json.RawMessage   `json:"token"`
}

// formatValue returns the SecretString that holds e.
func formatValue(e *tokenstore.Entry, w writeID) (string, error) {
	var b strings.Builder
	b.WriteString(`{"tokenstore":"` + valueFormat + `","write":"`)
	b.WriteString(w.String())
	b.WriteString(`","index":{`)
	first := true
	for kind, v := range e.Index.All() {
		if !first {
			b.WriteByte(',')
		}
		first = false
		// Kinds are fixed identifiers and values lowercase base32, but
		// quote them properly all the same.
		k, _ := json.Marshal(string(kind))
		q, _ := json.Marshal(v)
		b.Write(k)
		b.WriteByte(':')
		b.Write(q)
	}
	b.WriteString(`},"token":`)
	if embeddable(e.Value) {
		b.Write(e.Value)
	} else {
		q, err := json.Marshal(string(e.Value))
		if err != nil {
			return "", fmt.Errorf("awssm: %w", err)
		}
		b.Write(q)
	}
	b.WriteByte('}')
	if b.Len() > maxSecretString {
		return "", fmt.Errorf("awssm: secret value of %d bytes exceeds the %d that Secrets Manager holds: %w", b.Len(), maxSecretString, tokenstore.ErrTooLarge)
	}
	return b.String(), nil
}

// embeddable reports whether v can stand in the document as it is and come
// back byte for byte: a valid JSON object, without surrounding space.
func embeddable(v []byte) bool {
	return len(v) >= 2 && v[0] == '{' && v[len(v)-1] == '}' && json.Valid(v)
}

// parseValue returns the codec output and index a SecretString holds. A
// value that is not in this format is returned whole with no index: it is
// not a token of ours, and the codec will say so.
func parseValue(raw []byte) ([]byte, tokenstore.Index) {
	var d valueDoc
	if err := json.Unmarshal(raw, &d); err != nil || d.Format != valueFormat || len(d.Token) == 0 {
		return raw, tokenstore.Index{}
	}
	value := []byte(d.Token)
	if d.Token[0] == '"' {
		var s string
		if err := json.Unmarshal(d.Token, &s); err != nil {
			return raw, tokenstore.Index{}
		}
		value = []byte(s)
	} else {
		value = bytes.Clone(value)
	}
	var ix tokenstore.Index
	ix.UserName = d.Index[string(tokenstore.IndexUserName)]
	ix.AccessToken = d.Index[string(tokenstore.IndexAccessToken)]
	ix.GrantToken = d.Index[string(tokenstore.IndexGrantToken)]
	ix.RefreshToken = d.Index[string(tokenstore.IndexRefreshToken)]
	return value, ix
}

// An Entry's Version is the secret's VersionId, '~', and the state of the
// index the version holds: a mask of the kinds present (one hex digit) and
// a fingerprint of their values. Update compares it with the new index to
// tag only when the index changed, and untag only kinds that were present,
// without reading the tags (which costs a DescribeSecret call).
const versionSep = "~"

func makeVersion(versionID string, ix tokenstore.Index) string {
	return versionID + versionSep + tagStateOf(ix)
}

func parseVersion(v string) (versionID, tagState string, ok bool) {
	i := strings.LastIndex(v, versionSep)
	if i <= 0 {
		return "", "", false
	}
	return v[:i], v[i+1:], true
}

func tagStateOf(ix tokenstore.Index) string {
	mask := 0
	h := sha256.New()
	for i, kind := range kinds {
		if v := ix.Get(kind); v != "" {
			mask |= 1 << i
			h.Write([]byte(v))
		}
		h.Write([]byte{0})
	}
	return strconv.FormatInt(int64(mask), 16) + hex.EncodeToString(h.Sum(nil)[:8])
}

// maskOf returns the kinds mask of a tag state.
func maskOf(state string) (int, bool) {
	if len(state) != 17 {
		return 0, false
	}
	m, err := strconv.ParseInt(state[:1], 16, 8)
	return int(m), err == nil
}
