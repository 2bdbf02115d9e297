// Package localstack starts LocalStack in Docker with testcontainers-go, for
// tests of code that keeps tokens in AWS Secrets Manager through the awssm
// backend, and returns an aws.Config that reaches it:
//
//	func TestWithLocalStack(t *testing.T) {
//		testcontainers.SkipIfProviderIsNotHealthy(t)
//		ls, err := localstack.Start(t.Context(), localstack.Options{})
//		if ls != nil {
//			testcontainers.CleanupContainer(t, ls)
//		}
//		if err != nil {
//			t.Fatal(err)
//		}
//		b, err := awssm.New(secretsmanager.NewFromConfig(ls.Config), awssm.Options{ForceDelete: true})
//		...
//	}
//
// It needs a Docker engine that can pull (or already has) the image.
// tokenstore's own CI has none and runs its AWS tests against moto instead
// (integration/servers/moto.sh).
package localstack

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/testcontainers/testcontainers-go"
	tclocalstack "github.com/testcontainers/testcontainers-go/modules/localstack"
)

// DefaultImage is the LocalStack image Start runs unless Options.Image
// names another.
const DefaultImage = "localstack/localstack:4.4"

// Options configures Start.
type Options struct {
	// Image is the LocalStack image. Default DefaultImage.
	Image string
	// Region is the region of the returned Config. Default "us-east-1".
	Region string
	// Customizers change the container request further, such as
	// testcontainers.WithEnv(map[string]string{"SERVICES": "secretsmanager,kms"}).
	Customizers []testcontainers.ContainerCustomizer
}

// Container is a running LocalStack.
type Container struct {
	*tclocalstack.LocalStackContainer
	// URL is LocalStack's URL on the host, such as
	// "http://localhost:32768".
	URL string
	// Config reaches LocalStack: its base endpoint is URL, its
	// credentials are LocalStack's fake "test" ones.
	Config aws.Config
}

// Start runs LocalStack and waits until it is healthy. On error, the
// returned Container, if not nil, must still be terminated
// (testcontainers.CleanupContainer does that).
func Start(ctx context.Context, opts Options) (*Container, error) {
	if opts.Image == "" {
		opts.Image = DefaultImage
	}
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	ls, err := tclocalstack.Run(ctx, opts.Image, opts.Customizers...)
	if ls == nil {
		return nil, err
	}
	c := &Container{LocalStackContainer: ls}
	if err != nil {
		return c, err
	}
	host, err := ls.Host(ctx)
	if err != nil {
		return c, fmt.Errorf("localstack: host: %w", err)
	}
	port, err := ls.MappedPort(ctx, "4566/tcp")
	if err != nil {
		return c, fmt.Errorf("localstack: port: %w", err)
	}
	c.URL = fmt.Sprintf("http://%s:%s", host, port.Port())
	c.Config, err = config.LoadDefaultConfig(ctx,
		config.WithRegion(opts.Region),
		config.WithBaseEndpoint(c.URL),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")),
	)
	if err != nil {
		return c, fmt.Errorf("localstack: AWS config: %w", err)
	}
	return c, nil
}
