// The compiled parts of Asio and Beast, built once here. dte_http defines
// BOOST_ASIO_SEPARATE_COMPILATION and BOOST_BEAST_SEPARATE_COMPILATION for itself and every
// target linking it, so other translation units only see declarations (faster builds).

#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
