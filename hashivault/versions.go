package hashivault

import (
	"errors"
	"strconv"
	"strings"

	"github.com/tokenstore-go/tokenstore"
)

// formatVersion makes an Entry.Version: the KV version number, then the
// entry's index hashes. Update needs the index of the version it replaces,
// to delete the index entries that no longer apply, and Store hands Update
// only the new index and the version it read; carrying the old index in the
// version saves a read per update. Hashes are base32, so ':' separates.
func formatVersion(n int64, ix tokenstore.Index) string {
	var b strings.Builder
	b.WriteString(strconv.FormatInt(n, 10))
	for _, k := range kinds {
		b.WriteByte(':')
		b.WriteString(ix.Get(k))
	}
	return b.String()
}

func parseVersion(v string) (int64, tokenstore.Index, error) {
	parts := strings.Split(v, ":")
	n, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil || n < 1 || len(parts) != len(kinds)+1 {
		return 0, tokenstore.Index{}, errors.New("hashivault: malformed entry version (not read from this backend)")
	}
	var ix tokenstore.Index
	for i, k := range kinds {
		setIndex(&ix, k, parts[i+1])
	}
	return n, ix, nil
}
