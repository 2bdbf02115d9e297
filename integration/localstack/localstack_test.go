package localstack_test

import (
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/testcontainers/testcontainers-go"

	"github.com/tokenstore-go/tokenstore"
	"github.com/tokenstore-go/tokenstore/awssm"
	"github.com/tokenstore-go/tokenstore/codec"
	"github.com/tokenstore-go/tokenstore/integration/localstack"
	"github.com/tokenstore-go/tokenstore/storetest"
)

// TestLocalStack saves and finds a token through awssm in LocalStack. It
// needs Docker, so unlike the moto tests it skips where there is none
// (tokenstore's CI); TOKENSTORE_LOCALSTACK_IMAGE picks another image.
func TestLocalStack(t *testing.T) {
	testcontainers.SkipIfProviderIsNotHealthy(t)
	ctx := t.Context()
	ls, err := localstack.Start(ctx, localstack.Options{Image: os.Getenv("TOKENSTORE_LOCALSTACK_IMAGE")})
	if ls != nil {
		testcontainers.CleanupContainer(t, ls)
	}
	if err != nil {
		t.Fatal(err)
	}
	b, err := awssm.New(secretsmanager.NewFromConfig(ls.Config), awssm.Options{ForceDelete: true})
	if err != nil {
		t.Fatal(err)
	}
	s, err := tokenstore.New(b, tokenstore.Options{Namespace: "localstack", IndexKey: storetest.IndexKey, Codec: codec.Plain()})
	if err != nil {
		t.Fatal(err)
	}
	tok := &tokenstore.Token{UserName: "ada@example.com:1", RefreshToken: "1000.r", ClientID: "c", ClientSecret: "s"}
	if err := s.SaveToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	got, err := s.FindToken(ctx, &tokenstore.Token{UserName: tok.UserName})
	if err != nil || got.RefreshToken != tok.RefreshToken {
		t.Fatalf("FindToken = %v, %v", got, err)
	}
	if err := s.DeleteTokens(ctx); err != nil {
		t.Fatal(err)
	}
}
