package memstore_test

import (
	"context"
	"testing"

	"github.com/tokenstore-go/tokenstore"
	"github.com/tokenstore-go/tokenstore/memstore"
	"github.com/tokenstore-go/tokenstore/storetest"
)

func TestConformance(t *testing.T) {
	storetest.RunBackend(t, func(context.Context, *testing.T) (tokenstore.Backend, error) {
		return memstore.New(), nil
	})
}
