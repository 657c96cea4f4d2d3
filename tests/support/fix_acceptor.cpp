// A FIX 4.4 venue for the tests: a QuickFIX acceptor that validates every
// message against the FIX 4.4 data dictionary (UseDataDictionary=Y), so a
// message FKS gets wrong is rejected by QuickFIX itself, and logged.
//
//   fix_acceptor PORT STORE_DIR DICTIONARY SENDER_COMP_ID TARGET_COMP_ID EVENT_LOG [CERT KEY]
//
// With CERT and KEY (PEM files) it accepts TLS only (QuickFIX's
// SSLSocketAcceptor), presenting that certificate.
//
// It keeps its sequence numbers and sent messages in a QuickFIX file store
// under STORE_DIR, so it can be stopped and started again on the same store.
//
// What it does with a NewOrderSingle depends on the integer part of Price:
//   below 1      rejected (ExecType 8)
//   1..99        acked, rests
//   100..199     acked, then filled completely at its price
//   200..299     acked, then half (rounded down, at least 1) filled
//   300..399     acked, rests, and refuses every cancel and replace
// A cancel of a working order cancels it; a replace moves it to the new
// ClOrdID, price and quantity and acks it (ExecType 5); an unknown or done
// order's cancel or replace gets an OrderCancelReject.
//
// Commands, one per line on stdin:
//   fill CLORDID QTY   fill a working order
//   skip_out N         raise its next outgoing MsgSeqNum by N (FKS sees a gap)
//   rewind_in N        lower the MsgSeqNum it expects by N (it asks FKS to resend)
//   rewind_out N       lower its next outgoing MsgSeqNum by N (FKS sees one too low)
//   reject_next        refuse the next application message with a session Reject
//   business_reject_next  refuse it with a BusinessMessageReject
//   drop               disconnect without a Logout
//   logout             send a Logout
// Each thing that happens is one line in EVENT_LOG (flushed at once):
//   ready, logon, logout, in <MsgType> <ClOrdID> [possdup], admin_in <MsgType>,
//   admin_out <MsgType>, session_reject <RefSeqNum> <Text>,
//   business_reject <Text>, gap_fill <NewSeqNo>, seq <next in> <next out>,
//   cancel_reject <OrigClOrdID> refused|done|unknown.
#include <quickfix/Application.h>
#include <quickfix/FileLog.h>
#include <quickfix/FileStore.h>
#include <quickfix/Session.h>
#include <quickfix/SessionSettings.h>
#include <quickfix/SSLSocketAcceptor.h>
#include <quickfix/SocketAcceptor.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>

namespace {

struct Order {
	std::string order_id, symbol, cl_ord_id;
	char side = '1';
	double px = 0, qty = 0, cum = 0, avg = 0;
	bool open = true;
	bool stubborn = false;   // refuses cancels and replaces
};

class EventLog {
      public:
	explicit EventLog(const std::string &path) : f_(std::fopen(path.c_str(), "a")) {}
	~EventLog() { if (f_) std::fclose(f_); }
	void line(const std::string &s)
	{
		std::lock_guard<std::mutex> l(m_);
		if (!f_)
			return;
		std::fprintf(f_, "%s\n", s.c_str());
		std::fflush(f_);
	}

      private:
	std::FILE *f_;
	std::mutex m_;
};

std::string field(const FIX::FieldMap &m, int tag)
{
	return m.isSetField(tag) ? m.getField(tag) : std::string();
}

class Venue : public FIX::Application {
      public:
	explicit Venue(EventLog &log) : log_(log) {}

	FIX::SessionID session;

	void onCreate(const FIX::SessionID &id) override { session = id; }
	void onLogon(const FIX::SessionID &) override { log_.line("logon"); }
	void onLogout(const FIX::SessionID &) override { log_.line("logout"); }

	void toAdmin(FIX::Message &m, const FIX::SessionID &) override
	{
		std::string type = field(m.getHeader(), 35);
		log_.line("admin_out " + type);
		if (type == "3")
			log_.line("session_reject " + field(m, 45) + " " + field(m, 58));
	}

	void toApp(FIX::Message &m, const FIX::SessionID &) throw(FIX::DoNotSend) override
	{
		if (field(m.getHeader(), 35) == "j")
			log_.line("business_reject " + field(m, 58));
	}

	void fromAdmin(const FIX::Message &m, const FIX::SessionID &) throw(
		FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue, FIX::RejectLogon) override
	{
		std::string type = field(m.getHeader(), 35);
		log_.line("admin_in " + type);
		if (type == "4" && field(m, 123) == "Y")
			log_.line("gap_fill " + field(m, 36));
	}

	void fromApp(const FIX::Message &m, const FIX::SessionID &) throw(
		FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue,
		FIX::UnsupportedMessageType) override
	{
		std::string type = field(m.getHeader(), 35);
		bool possdup = field(m.getHeader(), 43) == "Y";
		log_.line("in " + type + " " + field(m, 11) + (possdup ? " possdup" : ""));
		std::lock_guard<std::recursive_mutex> l(mu_);
		if (reject_next_) {
			reject_next_ = false;
			throw FIX::IncorrectTagValue(54);   // QuickFIX answers with a Reject (35=3)
		}
		if (business_reject_next_) {
			business_reject_next_ = false;
			throw FIX::UnsupportedMessageType();  // a BusinessMessageReject (35=j)
		}
		if (type == "D")
			new_order(m);
		else if (type == "F")
			cancel(m);
		else if (type == "G")
			replace(m);
		else
			throw FIX::UnsupportedMessageType();
	}

	void fill_cmd(const std::string &cl_ord_id, double qty)
	{
		std::lock_guard<std::recursive_mutex> l(mu_);
		auto it = orders_.find(cl_ord_id);
		if (it != orders_.end() && it->second.open)
			fill(it->second, qty);
	}

	void reject_next(bool business)
	{
		std::lock_guard<std::recursive_mutex> l(mu_);
		(business ? business_reject_next_ : reject_next_) = true;
	}

      private:
	EventLog &log_;
	std::recursive_mutex mu_;
	bool reject_next_ = false, business_reject_next_ = false;
	std::map<std::string, Order> orders_;   // by current ClOrdID
	unsigned long next_order_ = 1, next_exec_ = 1;

	static std::string num(double v)
	{
		std::ostringstream s;
		s.precision(15);
		s << v;
		return s.str();
	}

	void send(FIX::Message &m)
	{
		try {
			FIX::Session::sendToTarget(m, session);
		} catch (const FIX::SessionNotFound &) {
		}
	}

	void report(const Order &o, char exec_type, char status, double last_qty, const std::string &orig)
	{
		FIX::Message m;
		m.getHeader().setField(35, "8");
		m.setField(37, o.order_id);
		m.setField(11, o.cl_ord_id);
		if (!orig.empty())
			m.setField(41, orig);
		m.setField(17, "X" + std::to_string(next_exec_++));
		m.setField(150, std::string(1, exec_type));
		m.setField(39, std::string(1, status));
		m.setField(55, o.symbol);
		m.setField(54, std::string(1, o.side));
		m.setField(38, num(o.qty));
		if (o.px > 0)
			m.setField(44, num(o.px));
		if (last_qty > 0) {
			m.setField(32, num(last_qty));
			m.setField(31, num(o.px));
		}
		m.setField(151, num(o.open ? o.qty - o.cum : 0));
		m.setField(14, num(o.cum));
		m.setField(6, num(o.avg));
		send(m);
	}

	void fill(Order &o, double qty)
	{
		if (qty > o.qty - o.cum)
			qty = o.qty - o.cum;
		if (qty <= 0)
			return;
		o.avg = (o.avg * o.cum + o.px * qty) / (o.cum + qty);
		o.cum += qty;
		bool done = o.cum >= o.qty;
		if (done)
			o.open = false;
		report(o, 'F', done ? '2' : '1', qty, "");
	}

	void new_order(const FIX::Message &m)
	{
		std::string id = field(m, 11);
		if (orders_.count(id))
			return;          // a resend of an order it has: idempotent
		Order o;
		o.cl_ord_id = id;
		o.order_id = "V" + std::to_string(next_order_++);
		o.symbol = field(m, 55);
		o.side = field(m, 54)[0];
		o.qty = std::atof(field(m, 38).c_str());
		o.px = std::atof(field(m, 44).c_str());
		int band = (int)o.px / 100;
		if (o.px < 1) {
			o.open = false;
			orders_[id] = o;
			report(o, '8', '8', 0, "");
			return;
		}
		o.stubborn = band == 3;
		Order &k = orders_[id] = o;
		report(k, '0', '0', 0, "");
		if (band == 1)
			fill(k, k.qty);
		else if (band == 2)
			fill(k, k.qty >= 2 ? (double)(long)(k.qty / 2) : 1);
	}

	void cancel_reject(const FIX::Message &m, const char *response_to, const Order *o)
	{
		FIX::Message r;
		r.getHeader().setField(35, "9");
		r.setField(37, o ? o->order_id : "NONE");
		r.setField(11, field(m, 11));
		r.setField(41, field(m, 41));
		r.setField(39, o ? (o->open ? (o->cum > 0 ? "1" : "0") : (o->cum >= o->qty ? "2" : "4")) : "8");
		r.setField(434, response_to);
		r.setField(102, o ? (o->open ? "99" : "0") : "1");
		r.setField(58, o ? (o->open ? "refused" : "too late") : "unknown order");
		log_.line(std::string("cancel_reject ") + field(m, 41) + " " + (o ? (o->open ? "refused" : "done") : "unknown"));
		send(r);
	}

	void cancel(const FIX::Message &m)
	{
		auto it = orders_.find(field(m, 41));
		if (it == orders_.end() || !it->second.open || it->second.stubborn) {
			cancel_reject(m, "1", it == orders_.end() ? nullptr : &it->second);
			return;
		}
		Order o = it->second;
		o.open = false;
		std::string orig = o.cl_ord_id;
		o.cl_ord_id = field(m, 11);
		orders_.erase(it);
		orders_[o.cl_ord_id] = o;
		report(o, '4', '4', 0, orig);
	}

	void replace(const FIX::Message &m)
	{
		auto it = orders_.find(field(m, 41));
		if (it == orders_.end() || !it->second.open || it->second.stubborn) {
			cancel_reject(m, "2", it == orders_.end() ? nullptr : &it->second);
			return;
		}
		Order o = it->second;
		std::string orig = o.cl_ord_id;
		o.cl_ord_id = field(m, 11);
		o.px = std::atof(field(m, 44).c_str());
		o.qty = std::atof(field(m, 38).c_str());
		orders_.erase(it);
		Order &k = orders_[o.cl_ord_id] = o;
		report(k, '5', k.cum > 0 ? '1' : '0', 0, orig);
	}
};

void commands(Venue &app, EventLog &log)
{
	std::string line;
	while (std::getline(std::cin, line)) {
		std::istringstream in(line);
		std::string cmd;
		in >> cmd;
		FIX::Session *s = FIX::Session::lookupSession(app.session);
		if (cmd == "fill") {
			std::string id;
			double qty = 0;
			in >> id >> qty;
			app.fill_cmd(id, qty);
		} else if (s && cmd == "skip_out") {
			int n = 0;
			in >> n;
			s->setNextSenderMsgSeqNum(s->getExpectedSenderNum() + n);
		} else if (s && cmd == "rewind_in") {
			int n = 0;
			in >> n;
			s->setNextTargetMsgSeqNum(s->getExpectedTargetNum() - n);
		} else if (s && cmd == "rewind_out") {
			int n = 0;
			in >> n;
			s->setNextSenderMsgSeqNum(s->getExpectedSenderNum() - n);
		} else if (cmd == "reject_next" || cmd == "business_reject_next") {
			app.reject_next(cmd != "reject_next");
		} else if (s && cmd == "drop") {
			s->disconnect();
		} else if (s && cmd == "logout") {
			s->logout("asked to");
		}
		if (s)
			log.line("seq " + std::to_string(s->getExpectedTargetNum()) + " " +
				 std::to_string(s->getExpectedSenderNum()));
		log.line("done " + cmd);
	}
}

} // namespace

int main(int argc, char **argv)
{
	if (argc != 7 && argc != 9) {
		std::cerr << "usage: fix_acceptor PORT STORE_DIR DICTIONARY SENDER TARGET EVENT_LOG [CERT KEY]\n";
		return 2;
	}
	std::ostringstream cfg;
	cfg << "[DEFAULT]\nConnectionType=acceptor\nSocketAcceptPort=" << argv[1]
	    << "\nSocketReuseAddress=Y\nFileStorePath=" << argv[2] << "\nFileLogPath=" << argv[2]
	    << "/log\nStartTime=00:00:00\nEndTime=00:00:00\nUseDataDictionary=Y\nDataDictionary=" << argv[3]
;
	if (argc == 9)
		cfg << "\nServerCertificateFile=" << argv[7] << "\nServerCertificateKeyFile=" << argv[8]
		    << "\nCertificateVerifyLevel=0";
	cfg << "\n[SESSION]\nBeginString=FIX.4.4\nSenderCompID=" << argv[4] << "\nTargetCompID=" << argv[5]
	    << "\n";
	EventLog log(argv[6]);
	try {
		std::istringstream in(cfg.str());
		FIX::SessionSettings settings(in);
		Venue app(log);
		FIX::FileStoreFactory store(settings);
		FIX::FileLogFactory logs(settings);
		std::unique_ptr<FIX::Acceptor> acceptor;
		if (argc == 9)
			acceptor.reset(new FIX::SSLSocketAcceptor(app, store, settings, logs));
		else
			acceptor.reset(new FIX::SocketAcceptor(app, store, settings, logs));
		acceptor->start();
		log.line("ready");
		commands(app, log);   // until stdin closes
		acceptor->stop();
	} catch (const std::exception &e) {
		std::cerr << "fix_acceptor: " << e.what() << "\n";
		return 1;
	}
	return 0;
}
