module github.com/tokenstore-go/tokenstore/integration

go 1.26.0

require github.com/tokenstore-go/tokenstore v0.0.0

replace github.com/tokenstore-go/tokenstore => ../
