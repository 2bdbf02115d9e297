package lifecycle_test

import (
	"context"
	"net/http"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/hashicorp/vault/api"

	"github.com/tokenstore-go/tokenstore/awssm"
	"github.com/tokenstore-go/tokenstore/codec"
	"github.com/tokenstore-go/tokenstore/gcpsm"
	"github.com/tokenstore-go/tokenstore/gcpsm/gcpsmtest"
	"github.com/tokenstore-go/tokenstore/hashivault"
)

// awssmWorld runs a case over AWS Secrets Manager as moto serves it; each
// case's namespace keeps it apart from the others on the one server.
func awssmWorld(t *testing.T) world {
	endpoint := os.Getenv("TOKENSTORE_MOTO_ENDPOINT")
	if endpoint == "" {
		t.Fatal("TOKENSTORE_MOTO_ENDPOINT is not set: run integration/run.sh, which starts moto")
	}
	httpClient := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.MaxIdleConnsPerHost = 64 // the race cases' goroutines, without a connection each time
	})
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithBaseEndpoint(endpoint),
		config.WithHTTPClient(httpClient),
		config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")),
		config.WithSharedConfigFiles([]string{os.DevNull}),
		config.WithSharedCredentialsFiles([]string{os.DevNull}),
		config.WithEC2IMDSClientEnableState(0),
	)
	if err != nil {
		t.Fatal(err)
	}
	b, err := awssm.New(secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) { o.Region = aws.ToString(&cfg.Region) }),
		awssm.Options{Prefix: "lifecycle/", ForceDelete: true})
	if err != nil {
		t.Fatal(err)
	}
	return world{b, codec.Plain()}
}

// gcpsmWorld runs a case over Google Cloud Secret Manager as gcpsmtest's
// in-process fake serves it.
func gcpsmWorld(t *testing.T) world {
	srv, err := gcpsmtest.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	client, err := srv.NewClient(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	b, err := gcpsm.New(client, gcpsm.Options{Project: "lifecycle"})
	if err != nil {
		t.Fatal(err)
	}
	return world{b, codec.Plain()}
}

// hashivaultWorld runs a case over Vault KV v2 on the real Vault server that
// servers/vault.sh started.
func hashivaultWorld(t *testing.T) world {
	addr, token, mount := os.Getenv("TOKENSTORE_VAULT_ADDR"), os.Getenv("TOKENSTORE_VAULT_TOKEN"), os.Getenv("TOKENSTORE_VAULT_MOUNT")
	if addr == "" || token == "" || mount == "" {
		t.Fatal("TOKENSTORE_VAULT_* are not set: run integration/run.sh, which starts Vault")
	}
	cfg := api.DefaultConfig()
	cfg.Address = addr
	cfg.HttpClient.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	client, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	client.SetToken(token)
	b, err := hashivault.New(client, hashivault.Options{Mount: mount, Prefix: "lifecycle"})
	if err != nil {
		t.Fatal(err)
	}
	return world{b, codec.Plain()}
}
