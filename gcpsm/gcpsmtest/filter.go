package gcpsmtest

import (
	"strings"

	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
)

// term is one condition of a list filter.
type term struct {
	field string // "labels.KEY", "name" or "state"
	op    byte   // '=' or ':'
	value string // ":*" is presence
}

// parseFilter parses terms joined by AND or by spaces, the subset of the
// List-operation filtering language that this fake understands; the rest is
// refused so that a test never passes on a filter the fake ignored.
func parseFilter(f string, fields ...string) ([]term, error) {
	var terms []term
	for _, tok := range strings.Fields(f) {
		if tok == "AND" {
			continue
		}
		if tok == "OR" || tok == "NOT" || strings.HasPrefix(tok, "-") || strings.ContainsAny(tok, "()<>~") {
			return nil, invalid("filter %q: the fake supports only terms joined by AND", f)
		}
		i := strings.IndexAny(tok, "=:")
		if i <= 0 {
			return nil, invalid("filter %q: malformed term %q", f, tok)
		}
		t := term{field: tok[:i], op: tok[i], value: strings.Trim(tok[i+1:], `"`)}
		known := false
		for _, f := range fields {
			if t.field == f || f == "labels" && strings.HasPrefix(t.field, "labels.") && len(t.field) > len("labels.") {
				known = true
			}
		}
		if !known {
			return nil, invalid("filter %q: unsupported field %q", f, t.field)
		}
		terms = append(terms, t)
	}
	return terms, nil
}

func matchValue(t term, v string, present bool) bool {
	switch {
	case !present:
		return false
	case t.op == ':' && t.value == "*":
		return true
	case t.op == ':':
		return strings.Contains(v, t.value)
	default:
		return v == t.value
	}
}

func matchSecret(terms []term, s *secretmanagerpb.Secret) bool {
	for _, t := range terms {
		var v string
		var ok bool
		switch {
		case t.field == "name":
			v, ok = s.Name, true
		default:
			v, ok = s.Labels[strings.TrimPrefix(t.field, "labels.")]
		}
		if !matchValue(t, v, ok) {
			return false
		}
	}
	return true
}

func matchVersion(terms []term, v *secretmanagerpb.SecretVersion) bool {
	for _, t := range terms {
		var s string
		switch t.field {
		case "name":
			s = v.Name
		case "state":
			s = v.State.String()
		}
		if !matchValue(t, s, true) {
			return false
		}
	}
	return true
}
