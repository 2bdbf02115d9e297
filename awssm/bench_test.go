package awssm_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/tokenstore-go/tokenstore"
	"github.com/tokenstore-go/tokenstore/awssm"
	"github.com/tokenstore-go/tokenstore/codec"
)

// memClient answers the calls the benchmarks make from memory, so that they
// time tokenstore's own work (hashing, encoding, the value document) without
// the SDK's serialization and the network, which a raw SDK call pays too.
// Set beside integration/awssm's benchmarks against moto, it gives the
// overhead as a fraction of a round trip.
type memClient struct {
	awssm.Client // unused calls panic
	mu           sync.Mutex
	values       map[string]*secretsmanager.GetSecretValueOutput
}

func (m *memClient) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if v := m.values[aws.ToString(in.SecretId)]; v != nil {
		return v, nil
	}
	return nil, &types.ResourceNotFoundException{Message: aws.String("no such secret")}
}

// BatchGetSecretValue finds nothing: the benchmarks' token is the only one.
func (m *memClient) BatchGetSecretValue(context.Context, *secretsmanager.BatchGetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.BatchGetSecretValueOutput, error) {
	return &secretsmanager.BatchGetSecretValueOutput{}, nil
}

func (m *memClient) CreateSecret(_ context.Context, in *secretsmanager.CreateSecretInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error) {
	m.put(in.Name, in.SecretString, in.ClientRequestToken)
	return &secretsmanager.CreateSecretOutput{}, nil
}

func (m *memClient) PutSecretValue(_ context.Context, in *secretsmanager.PutSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error) {
	m.put(in.SecretId, in.SecretString, in.ClientRequestToken)
	return &secretsmanager.PutSecretValueOutput{}, nil
}

func (m *memClient) put(name, value, version *string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.values[*name] = &secretsmanager.GetSecretValueOutput{Name: name, SecretString: value, VersionId: version}
}

func benchStore(b *testing.B) (*tokenstore.Store, *tokenstore.Token) {
	be, err := awssm.New(&memClient{values: map[string]*secretsmanager.GetSecretValueOutput{}}, awssm.Options{})
	if err != nil {
		b.Fatal(err)
	}
	s, err := tokenstore.New(be, tokenstore.Options{Namespace: "bench", IndexKey: []byte("bench index key, sixteen+"), Codec: codec.Plain()})
	if err != nil {
		b.Fatal(err)
	}
	t := &tokenstore.Token{ID: "bench", UserName: "ada@example.com:60001", ClientID: "1000.CLIENT", ClientSecret: "secret",
		RefreshToken: "1000.refresh.9f8e", AccessToken: "1000.access.7d6c", APIDomain: "https://www.zohoapis.eu"}
	if err := s.SaveToken(b.Context(), t); err != nil {
		b.Fatal(err)
	}
	return s, t
}

// BenchmarkFindByIDOverhead: FindTokenByID's own cost.
func BenchmarkFindByIDOverhead(b *testing.B) {
	s, t := benchStore(b)
	for b.Loop() {
		if _, err := s.FindTokenByID(b.Context(), t.ID); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSaveTokenOverhead: the own cost of SaveToken of a changed token
// by ID (a read and a compare-and-swap write; the index does not change).
func BenchmarkSaveTokenOverhead(b *testing.B) {
	s, t := benchStore(b)
	expiry := time.UnixMilli(2_000_000_000_000)
	for b.Loop() {
		expiry = expiry.Add(time.Second)
		if err := s.SaveToken(b.Context(), &tokenstore.Token{ID: t.ID, Expiry: expiry}); err != nil {
			b.Fatal(err)
		}
	}
}
