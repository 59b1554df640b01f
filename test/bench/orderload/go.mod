module pkiext/bench/orderload

go 1.21
