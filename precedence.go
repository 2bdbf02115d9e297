package tokenstore

// lookupKey is one field a query can match a stored token on.
type lookupKey struct {
	kind  IndexKind
	value string
}

// matchKeys is the Zoho matching precedence, the only place it is written:
// the keys to try, in order, to find the token q identifies.
func matchKeys(q *Token) ([]lookupKey, error) {
	switch {
	case q == nil:
		return nil, ErrInvalidToken
	case q.UserName != "":
		return []lookupKey{{IndexUserName, q.UserName}}, nil
	case q.AccessToken != "" && q.ClientID == "" && q.ClientSecret == "":
		return []lookupKey{{IndexAccessToken, q.AccessToken}}, nil
	case (q.GrantToken != "" || q.RefreshToken != "") && q.ClientID != "" && q.ClientSecret != "":
		keys := make([]lookupKey, 0, 2)
		if q.GrantToken != "" {
			keys = append(keys, lookupKey{IndexGrantToken, q.GrantToken})
		}
		if q.RefreshToken != "" {
			keys = append(keys, lookupKey{IndexRefreshToken, q.RefreshToken})
		}
		return keys, nil
	}
	return nil, ErrInvalidToken
}

// matches checks the real field: index hashes only nominate candidates.
func (k lookupKey) matches(t *Token) bool {
	return t != nil && field(t, k.kind) == k.value
}

// field returns t's value for an index kind.
func field(t *Token, kind IndexKind) string {
	switch kind {
	case IndexUserName:
		return t.UserName
	case IndexAccessToken:
		return t.AccessToken
	case IndexGrantToken:
		return t.GrantToken
	case IndexRefreshToken:
		return t.RefreshToken
	}
	return ""
}
