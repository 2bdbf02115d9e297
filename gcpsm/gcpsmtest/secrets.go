package gcpsmtest

import (
	"context"
	"encoding/base64"
	"fmt"
	"hash/crc32"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// MaxPayloadSize is the largest secret version payload, in bytes.
const MaxPayloadSize = 65536

// Page sizes of list calls: the real service caps them at 25000.
const (
	maxPageSize     = 25000
	defaultPageSize = 25000
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// secretManager implements the Secret Manager service.
type secretManager struct {
	secretmanagerpb.UnimplementedSecretManagerServiceServer

	mu      sync.Mutex
	secrets map[string]*secret // by canonical name
	etags   uint64
}

type secret struct {
	pb       *secretmanagerpb.Secret
	versions []*version // versions[n-1] is version n
}

type version struct {
	pb   *secretmanagerpb.SecretVersion
	data []byte
}

func newSecretManager() *secretManager {
	return &secretManager{secrets: make(map[string]*secret)}
}

// etag returns a fresh etag; like the real ones it is a quoted string.
func (m *secretManager) etag() string {
	m.etags++
	return strconv.Quote(strconv.FormatInt(time.Now().UnixNano(), 16) + strconv.FormatUint(m.etags, 16))
}

func checkEtag(want, have string) error {
	if want != "" && want != have {
		return status.Errorf(codes.FailedPrecondition, "etag %s does not match the current etag", want)
	}
	return nil
}

func (m *secretManager) lookup(name string) (*secret, secretName, error) {
	n, err := parseSecret(name)
	if err != nil {
		return nil, n, err
	}
	s := m.secrets[n.String()]
	if s == nil {
		return nil, n, status.Errorf(codes.NotFound, "Secret [%s] not found", n)
	}
	return s, n, nil
}

// resolve finds the version that spec (a number, "latest" or an alias) names.
func (m *secretManager) resolve(name string) (*secret, *version, error) {
	n, spec, err := parseVersion(name)
	if err != nil {
		return nil, nil, err
	}
	s := m.secrets[n.String()]
	if s == nil {
		return nil, nil, status.Errorf(codes.NotFound, "Secret [%s] not found", n)
	}
	var num int64
	switch {
	case spec == "latest":
		num = int64(len(s.versions))
	case spec[0] >= '0' && spec[0] <= '9':
		if num, err = strconv.ParseInt(spec, 10, 64); err != nil || num <= 0 {
			return nil, nil, invalid("invalid version %q", spec)
		}
	default:
		a, ok := s.pb.VersionAliases[spec]
		if !ok {
			return nil, nil, status.Errorf(codes.NotFound, "Secret Version [%s/versions/%s] not found", n, spec)
		}
		num = a
	}
	if num < 1 || num > int64(len(s.versions)) {
		return nil, nil, status.Errorf(codes.NotFound, "Secret Version [%s/versions/%s] not found", n, spec)
	}
	return s, s.versions[num-1], nil
}

func (m *secretManager) CreateSecret(_ context.Context, req *secretmanagerpb.CreateSecretRequest) (*secretmanagerpb.Secret, error) {
	p, err := parseParentName(req.GetParent())
	if err != nil {
		return nil, err
	}
	if !validSecretID(req.GetSecretId()) {
		return nil, invalid("invalid secret ID %q: want 1 to 255 of [A-Za-z0-9_-]", req.GetSecretId())
	}
	in := req.GetSecret()
	if in == nil {
		in = &secretmanagerpb.Secret{}
	}
	switch {
	case p.location == "" && in.Replication == nil:
		return nil, invalid("Secret.replication is required for a global secret")
	case p.location != "" && in.Replication != nil:
		return nil, invalid("Secret.replication must not be set for a regional secret")
	}
	if err := validateLabels(in.Labels); err != nil {
		return nil, err
	}
	if err := validateAnnotations(in.Annotations); err != nil {
		return nil, err
	}
	if len(in.VersionAliases) > 0 {
		return nil, invalid("a new secret has no versions to alias")
	}
	n := secretName{p, req.GetSecretId()}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.secrets[n.String()] != nil {
		return nil, status.Errorf(codes.AlreadyExists, "Secret [%s] already exists", n)
	}
	pb := proto.Clone(in).(*secretmanagerpb.Secret)
	pb.Name = n.String()
	pb.CreateTime = timestamppb.Now()
	pb.Etag = m.etag()
	m.secrets[pb.Name] = &secret{pb: pb}
	return proto.Clone(pb).(*secretmanagerpb.Secret), nil
}

func (m *secretManager) GetSecret(_ context.Context, req *secretmanagerpb.GetSecretRequest) (*secretmanagerpb.Secret, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, _, err := m.lookup(req.GetName())
	if err != nil {
		return nil, err
	}
	return proto.Clone(s.pb).(*secretmanagerpb.Secret), nil
}

func (m *secretManager) UpdateSecret(_ context.Context, req *secretmanagerpb.UpdateSecretRequest) (*secretmanagerpb.Secret, error) {
	in := req.GetSecret()
	if in == nil {
		return nil, invalid("secret is required")
	}
	paths := req.GetUpdateMask().GetPaths()
	if len(paths) == 0 {
		return nil, invalid("update_mask is required")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s, _, err := m.lookup(in.Name)
	if err != nil {
		return nil, err
	}
	if err := checkEtag(in.Etag, s.pb.Etag); err != nil {
		return nil, err
	}
	next := proto.Clone(s.pb).(*secretmanagerpb.Secret)
	for _, p := range paths {
		switch p {
		case "labels":
			if err := validateLabels(in.Labels); err != nil {
				return nil, err
			}
			next.Labels = maps.Clone(in.Labels)
		case "annotations":
			if err := validateAnnotations(in.Annotations); err != nil {
				return nil, err
			}
			next.Annotations = maps.Clone(in.Annotations)
		case "version_aliases":
			if err := validateAliases(in.VersionAliases); err != nil {
				return nil, err
			}
			for a, v := range in.VersionAliases {
				if v < 1 || v > int64(len(s.versions)) {
					return nil, invalid("version alias %q names version %d, which does not exist", a, v)
				}
			}
			next.VersionAliases = maps.Clone(in.VersionAliases)
		default:
			return nil, invalid("update_mask path %q is not supported by the fake", p)
		}
	}
	next.Etag = m.etag()
	s.pb = next
	return proto.Clone(next).(*secretmanagerpb.Secret), nil
}

func (m *secretManager) DeleteSecret(_ context.Context, req *secretmanagerpb.DeleteSecretRequest) (*emptypb.Empty, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, n, err := m.lookup(req.GetName())
	if err != nil {
		return nil, err
	}
	if err := checkEtag(req.GetEtag(), s.pb.Etag); err != nil {
		return nil, err
	}
	delete(m.secrets, n.String())
	return &emptypb.Empty{}, nil
}

// page cuts names, sorted, after the page token (the last name of the
// previous page, so pages stay stable while names come and go).
func page(names []string, token string, size int32) (out []string, next string, err error) {
	slices.Sort(names)
	if token != "" {
		after, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil || len(after) == 0 {
			return nil, "", invalid("invalid page token")
		}
		i, _ := slices.BinarySearch(names, string(after))
		for i < len(names) && names[i] <= string(after) {
			i++
		}
		names = names[i:]
	}
	n := int(size)
	switch {
	case n <= 0:
		n = defaultPageSize
	case n > maxPageSize:
		n = maxPageSize
	}
	if len(names) > n {
		names = names[:n]
		next = base64.RawURLEncoding.EncodeToString([]byte(names[n-1]))
	}
	return names, next, nil
}

func (m *secretManager) ListSecrets(_ context.Context, req *secretmanagerpb.ListSecretsRequest) (*secretmanagerpb.ListSecretsResponse, error) {
	p, err := parseParentName(req.GetParent())
	if err != nil {
		return nil, err
	}
	if req.GetPageSize() < 0 {
		return nil, invalid("negative page_size")
	}
	terms, err := parseFilter(req.GetFilter(), "labels", "name")
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	prefix := p.String() + "/secrets/"
	var names []string
	total := 0
	for name, s := range m.secrets {
		if strings.HasPrefix(name, prefix) && matchSecret(terms, s.pb) {
			names = append(names, name)
			total++
		}
	}
	names, next, err := page(names, req.GetPageToken(), req.GetPageSize())
	if err != nil {
		return nil, err
	}
	resp := &secretmanagerpb.ListSecretsResponse{NextPageToken: next, TotalSize: int32(total)}
	for _, n := range names {
		resp.Secrets = append(resp.Secrets, proto.Clone(m.secrets[n].pb).(*secretmanagerpb.Secret))
	}
	return resp, nil
}

func (m *secretManager) AddSecretVersion(_ context.Context, req *secretmanagerpb.AddSecretVersionRequest) (*secretmanagerpb.SecretVersion, error) {
	data := req.GetPayload().GetData()
	if len(data) > MaxPayloadSize {
		return nil, invalid("Secret Version payload is %d bytes, larger than the limit of %d bytes", len(data), MaxPayloadSize)
	}
	sum := req.GetPayload().DataCrc32C
	if sum != nil && *sum != int64(crc32.Checksum(data, castagnoli)) {
		return nil, invalid("data_crc32c does not match the payload")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s, _, err := m.lookup(req.GetParent())
	if err != nil {
		return nil, err
	}
	// Adding a version changes the version's etag, not the secret's: the
	// API reference says a change to one resource leaves the other's etag.
	v := &version{
		pb: &secretmanagerpb.SecretVersion{
			Name:                           fmt.Sprintf("%s/versions/%d", s.pb.Name, len(s.versions)+1),
			CreateTime:                     timestamppb.Now(),
			State:                          secretmanagerpb.SecretVersion_ENABLED,
			Etag:                           m.etag(),
			ClientSpecifiedPayloadChecksum: sum != nil,
		},
		data: slices.Clone(data),
	}
	s.versions = append(s.versions, v)
	return proto.Clone(v.pb).(*secretmanagerpb.SecretVersion), nil
}

func (m *secretManager) AccessSecretVersion(_ context.Context, req *secretmanagerpb.AccessSecretVersionRequest) (*secretmanagerpb.AccessSecretVersionResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, v, err := m.resolve(req.GetName())
	if err != nil {
		return nil, err
	}
	if v.pb.State != secretmanagerpb.SecretVersion_ENABLED {
		return nil, status.Errorf(codes.FailedPrecondition, "Secret Version [%s] is in %s state", v.pb.Name, v.pb.State)
	}
	sum := int64(crc32.Checksum(v.data, castagnoli))
	return &secretmanagerpb.AccessSecretVersionResponse{
		Name:    v.pb.Name,
		Payload: &secretmanagerpb.SecretPayload{Data: slices.Clone(v.data), DataCrc32C: &sum},
	}, nil
}

func (m *secretManager) GetSecretVersion(_ context.Context, req *secretmanagerpb.GetSecretVersionRequest) (*secretmanagerpb.SecretVersion, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, v, err := m.resolve(req.GetName())
	if err != nil {
		return nil, err
	}
	return proto.Clone(v.pb).(*secretmanagerpb.SecretVersion), nil
}

// ListSecretVersions lists the newest version first. The API reference
// promises no order; callers should not depend on one.
func (m *secretManager) ListSecretVersions(_ context.Context, req *secretmanagerpb.ListSecretVersionsRequest) (*secretmanagerpb.ListSecretVersionsResponse, error) {
	if req.GetPageSize() < 0 {
		return nil, invalid("negative page_size")
	}
	terms, err := parseFilter(req.GetFilter(), "state", "name")
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s, _, err := m.lookup(req.GetParent())
	if err != nil {
		return nil, err
	}
	// Page over keys that sort newest first: the complement of the number.
	var keys []string
	for _, v := range s.versions {
		if matchVersion(terms, v.pb) {
			keys = append(keys, versionKey(v))
		}
	}
	total := len(keys)
	keys, next, err := page(keys, req.GetPageToken(), req.GetPageSize())
	if err != nil {
		return nil, err
	}
	resp := &secretmanagerpb.ListSecretVersionsResponse{NextPageToken: next, TotalSize: int32(total)}
	for _, k := range keys {
		n, _ := strconv.ParseInt(k, 10, 64)
		resp.Versions = append(resp.Versions, proto.Clone(s.versions[1<<40-n-1].pb).(*secretmanagerpb.SecretVersion))
	}
	return resp, nil
}

// versionKey sorts versions newest first.
func versionKey(v *version) string {
	i := strings.LastIndexByte(v.pb.Name, '/')
	n, _ := strconv.ParseInt(v.pb.Name[i+1:], 10, 64)
	return fmt.Sprintf("%013d", 1<<40-n)
}

// setState moves a version to state; DESTROYED is final.
func (m *secretManager) setState(name, etag string, state secretmanagerpb.SecretVersion_State) (*secretmanagerpb.SecretVersion, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, v, err := m.resolve(name)
	if err != nil {
		return nil, err
	}
	if err := checkEtag(etag, v.pb.Etag); err != nil {
		return nil, err
	}
	if v.pb.State == secretmanagerpb.SecretVersion_DESTROYED {
		return nil, status.Errorf(codes.FailedPrecondition, "Secret Version [%s] is destroyed", v.pb.Name)
	}
	v.pb.State = state
	v.pb.Etag = m.etag()
	if state == secretmanagerpb.SecretVersion_DESTROYED {
		v.data = nil
		v.pb.DestroyTime = timestamppb.Now()
	}
	return proto.Clone(v.pb).(*secretmanagerpb.SecretVersion), nil
}

func (m *secretManager) EnableSecretVersion(_ context.Context, req *secretmanagerpb.EnableSecretVersionRequest) (*secretmanagerpb.SecretVersion, error) {
	return m.setState(req.GetName(), req.GetEtag(), secretmanagerpb.SecretVersion_ENABLED)
}

func (m *secretManager) DisableSecretVersion(_ context.Context, req *secretmanagerpb.DisableSecretVersionRequest) (*secretmanagerpb.SecretVersion, error) {
	return m.setState(req.GetName(), req.GetEtag(), secretmanagerpb.SecretVersion_DISABLED)
}

func (m *secretManager) DestroySecretVersion(_ context.Context, req *secretmanagerpb.DestroySecretVersionRequest) (*secretmanagerpb.SecretVersion, error) {
	return m.setState(req.GetName(), req.GetEtag(), secretmanagerpb.SecretVersion_DESTROYED)
}
