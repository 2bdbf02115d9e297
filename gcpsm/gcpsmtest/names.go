package gcpsmtest

import (
	"hash/fnv"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Resource names. The real service answers with the project number in every
// name whatever the request used; callers that compare names with their
// project ID find out here rather than in production.

// parent is a parsed "projects/P" or "projects/P/locations/L".
type parent struct {
	project  string // the project number
	location string // "" for global secrets
}

func (p parent) String() string {
	if p.location == "" {
		return "projects/" + p.project
	}
	return "projects/" + p.project + "/locations/" + p.location
}

// projectNumber gives a project ID a stable 12-digit number; a number stands
// for itself.
func projectNumber(id string) string {
	if _, err := strconv.ParseUint(id, 10, 64); err == nil {
		return id
	}
	h := fnv.New64a()
	h.Write([]byte(id))
	return strconv.FormatUint(100000000000+h.Sum64()%900000000000, 10)
}

func invalid(format string, args ...any) error {
	return status.Errorf(codes.InvalidArgument, format, args...)
}

// parseParent parses the segments of a parent; rest is what follows it.
func parseParent(segs []string) (p parent, rest []string, err error) {
	if len(segs) < 2 || segs[0] != "projects" || segs[1] == "" {
		return p, nil, invalid("malformed resource name: want projects/PROJECT[/locations/LOCATION]/...")
	}
	p.project = projectNumber(segs[1])
	rest = segs[2:]
	if len(rest) >= 2 && rest[0] == "locations" {
		if !validLocation(rest[1]) {
			return p, nil, invalid("invalid location %q", rest[1])
		}
		p.location = rest[1]
		rest = rest[2:]
	}
	return p, rest, nil
}

func validLocation(l string) bool {
	if l == "" || len(l) > 63 {
		return false
	}
	for _, c := range l {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func parseParentName(name string) (parent, error) {
	p, rest, err := parseParent(strings.Split(name, "/"))
	if err == nil && len(rest) != 0 {
		err = invalid("malformed parent %q", name)
	}
	return p, err
}

// secretName is a parsed secret resource name.
type secretName struct {
	parent
	id string
}

func (n secretName) String() string { return n.parent.String() + "/secrets/" + n.id }

func parseSecretName(name string) (secretName, []string, error) {
	p, rest, err := parseParent(strings.Split(name, "/"))
	if err != nil {
		return secretName{}, nil, err
	}
	if len(rest) < 2 || rest[0] != "secrets" {
		return secretName{}, nil, invalid("malformed secret name %q", name)
	}
	if !validSecretID(rest[1]) {
		return secretName{}, nil, invalid("invalid secret ID %q: want 1 to 255 of [A-Za-z0-9_-]", rest[1])
	}
	return secretName{p, rest[1]}, rest[2:], nil
}

func parseSecret(name string) (secretName, error) {
	n, rest, err := parseSecretName(name)
	if err == nil && len(rest) != 0 {
		err = invalid("malformed secret name %q", name)
	}
	return n, err
}

// parseVersion parses ".../secrets/S/versions/V"; V is a number, "latest"
// or an alias.
func parseVersion(name string) (secretName, string, error) {
	n, rest, err := parseSecretName(name)
	if err != nil {
		return n, "", err
	}
	if len(rest) != 2 || rest[0] != "versions" || rest[1] == "" {
		return n, "", invalid("malformed secret version name %q", name)
	}
	return n, rest[1], nil
}

func validSecretID(id string) bool {
	if len(id) == 0 || len(id) > 255 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Label rules of the API reference: keys match
// [\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]{0,62}, values [\p{Ll}\p{Lo}\p{N}_-]{0,63},
// each at most 128 bytes of UTF-8; at most 64 labels.
const (
	maxLabels      = 64
	maxLabelRunes  = 63
	maxLabelBytes  = 128
	maxAliases     = 50
	maxAliasLength = 63
)

func labelRune(r rune) bool {
	return unicode.IsLower(r) || unicode.Is(unicode.Lo, r) || unicode.IsNumber(r) || r == '_' || r == '-'
}

func validateLabels(labels map[string]string) error {
	if len(labels) > maxLabels {
		return invalid("%d labels, at most %d allowed", len(labels), maxLabels)
	}
	for k, v := range labels {
		first, _ := utf8.DecodeRuneInString(k)
		if k == "" || !(unicode.IsLower(first) || unicode.Is(unicode.Lo, first)) || !validLabelText(k) {
			return invalid("invalid label key %q", k)
		}
		if !validLabelText(v) {
			return invalid("invalid value of label %q", k)
		}
	}
	return nil
}

func validLabelText(s string) bool {
	if len(s) > maxLabelBytes || utf8.RuneCountInString(s) > maxLabelRunes || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !labelRune(r) {
			return false
		}
	}
	return true
}

// validateAliases checks alias names; targets are checked by the caller.
func validateAliases(aliases map[string]int64) error {
	if len(aliases) > maxAliases {
		return invalid("%d version aliases, at most %d allowed", len(aliases), maxAliases)
	}
	for a := range aliases {
		if !validAlias(a) {
			return invalid("invalid version alias %q", a)
		}
	}
	return nil
}

func validAlias(a string) bool {
	if a == "" || len(a) > maxAliasLength || strings.EqualFold(a, "latest") || strings.EqualFold(a, "new") {
		return false
	}
	for i := 0; i < len(a); i++ {
		c := a[i]
		letter := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		if i == 0 && !letter || !(letter || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// maxAnnotationBytes bounds the annotations of a secret, keys and values.
const maxAnnotationBytes = 16 * 1024

func validateAnnotations(a map[string]string) error {
	n := 0
	for k, v := range a {
		if k == "" || len(k) > 63 {
			return invalid("invalid annotation key %q", k)
		}
		n += len(k) + len(v)
	}
	if n > maxAnnotationBytes {
		return invalid("annotations take %d bytes, at most %d allowed", n, maxAnnotationBytes)
	}
	return nil
}
