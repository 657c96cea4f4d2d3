// The QuickFIX side of `fks bench fix` (see fix_bench.h): the same
// NewOrderSingle built and serialised, the same ExecutionReport parsed,
// the way an application on QuickFIX does it.
#include "bench/fix_bench.h"

#include <quickfix/DataDictionary.h>
#include <quickfix/Message.h>
#include <quickfix/fix44/NewOrderSingle.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>

namespace {

std::unique_ptr<FIX::DataDictionary> dict;

double now_ns()
{
	timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

} // namespace

int fix_bench_qf_load(const char *dictionary, char *err, size_t errlen)
{
	try {
		dict.reset(new FIX::DataDictionary(dictionary));
	} catch (const std::exception &e) {
		std::snprintf(err, errlen, "QuickFIX: loading %s: %s", dictionary, e.what());
		return -1;
	}
	return 0;
}

double fix_bench_qf_encode(uint64_t n, char *out, size_t cap)
{
	std::string s;
	FIX::UtcTimeStamp t;
	double start = now_ns();
	for (uint64_t i = 0; i < n; i++) {
		FIX44::NewOrderSingle m(FIX::ClOrdID(std::to_string(1000000 + i)), FIX::Side(FIX::Side_BUY), t,
					FIX::OrdType(FIX::OrdType_LIMIT));
		FIX::Header &h = m.getHeader();
		h.setField(FIX::SenderCompID("FKS"));
		h.setField(FIX::TargetCompID("VENUE"));
		h.setField(FIX::MsgSeqNum((int)(i + 1)));
		h.setField(FIX::SendingTime(t));
		m.set(FIX::Account("ACC1"));
		m.set(FIX::Symbol("BTC/USD"));
		m.set(FIX::OrderQty(3));
		m.set(FIX::Price(101.5));
		m.set(FIX::TimeInForce(FIX::TimeInForce_GOOD_TILL_CANCEL));
		m.toString(s);
	}
	double ns = (now_ns() - start) / (double)n;
	std::snprintf(out, cap, "%s", s.c_str());
	return ns;
}

double fix_bench_qf_parse(uint64_t n, const char *msg, size_t len)
{
	std::string text(msg, len);
	double sink = 0;
	double start = now_ns();
	try {
		for (uint64_t i = 0; i < n; i++) {
			FIX::Message m;
			m.setString(text, true, dict.get(), dict.get());
			sink += m.getField(11).size() + m.getField(150)[0] + std::atof(m.getField(31).c_str()) +
				std::atof(m.getField(32).c_str()) + std::atof(m.getField(151).c_str());
		}
	} catch (const std::exception &) {
		return -1;
	}
	double ns = (now_ns() - start) / (double)n;
	return sink > 0 ? ns : -1;
}
