package awssm_test

import (
	"context"
	"log"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/tokenstore-go/tokenstore"
	"github.com/tokenstore-go/tokenstore/awssm"
	"github.com/tokenstore-go/tokenstore/codec"
)

// A store of sealed tokens in Secrets Manager, their data keys wrapped by
// KMS. cfg comes from config.LoadDefaultConfig; for moto or LocalStack add
// config.WithBaseEndpoint("http://127.0.0.1:4566").
func ExampleNew() {
	var (
		ctx      = context.Background()
		cfg      aws.Config // from config.LoadDefaultConfig(ctx)
		keyARN   = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
		indexKey []byte // ≥ 16 secret bytes, the same in every process
	)
	b, err := awssm.New(secretsmanager.NewFromConfig(cfg), awssm.Options{RecoveryWindowInDays: 7})
	if err != nil {
		log.Fatal(err)
	}
	w, err := awssm.NewKMSKeyWrapper(kms.NewFromConfig(cfg), keyARN)
	if err != nil {
		log.Fatal(err)
	}
	sealed, err := codec.New(codec.Options{Wrappers: []codec.KeyWrapper{w}})
	if err != nil {
		log.Fatal(err)
	}
	store, err := tokenstore.New(b, tokenstore.Options{Namespace: "crm", IndexKey: indexKey, Codec: sealed})
	if err != nil {
		log.Fatal(err)
	}
	tok, err := store.FindToken(ctx, &tokenstore.Token{UserName: "ada@example.com:60001"})
	if err != nil {
		log.Fatal(err)
	}
	_ = tok
}
