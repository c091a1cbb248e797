-- SPDX-License-Identifier: BSD-2-Clause
-- homa.lua - Wireshark/tshark dissector for the Homa transport, in the wire
-- format of today's Linux Homa module (full build) and of this project
-- (spec/protocol.md section 1; the C twin is src/core/wire.c, and the test
-- tests/wireshark/compare.py checks that both read the same fields from
-- every frame of the test captures). The numbers below are copies of
-- src/core/wire.h's, checked against it by scripts/check-lua-wire.sh.
--
-- Homa is found as IP protocol 146 (IPv4 and IPv6) and inside UDP, the
-- project's default encapsulation, where the UDP ports are the Homa ports:
-- on the UDP ports of the preference "homa.udp_ports", and anywhere by a
-- heuristic that checks the common header.
--
-- Use:  tshark -X lua_script:homa.lua -r capture.pcap -Y 'homa.rpc == 1234'
-- or copy this file into the personal Lua plugins folder
-- (~/.local/lib/wireshark/plugins/).
--
-- Every length is checked before a byte is read: a short or malformed
-- packet gets expert info naming the problem (the tags in brackets are the
-- reasons of homa_wire_decode), never a Lua error.

local homa = Proto("homa", "Homa")

local TYPE_NAMES = {
	[0x10] = "DATA", [0x11] = "GRANT", [0x12] = "RESEND",
	[0x13] = "RPC_UNKNOWN", [0x14] = "BUSY", [0x15] = "CUTOFFS",
	[0x16] = "FREEZE", [0x17] = "NEED_ACK", [0x18] = "ACK",
}
local T_DATA, T_GRANT, T_RESEND, T_CUTOFFS, T_ACK = 0x10, 0x11, 0x12, 0x15, 0x18

local COMMON_BYTES = 28
-- Smallest length accepted per type (RESEND: the 36-byte upstream form).
local MIN_BYTES = {
	[0x10] = 56, [0x11] = 33, [0x12] = 36, [0x13] = 28, [0x14] = 28,
	[0x15] = 62, [0x16] = 28, [0x17] = 28, [0x18] = 80,
}
local DOFF_CONTROL, DOFF_DATA, DOFF_DATA_GSO = 0x50, 0xE0, 0xD0
local HIJACK_FLAGS, HIJACK_URGENT = 0x06, 0xB97D
local SEG_OFFSET_IN_SEQ = 0xFFFFFFFF
local RESEND_ALL = 0xFFFFFFFF
local MAX_ACKS, NUM_CUTOFFS = 5, 8
local MAX_MESSAGE_BYTES = 1000000 -- HOMA_MAX_MESSAGE_LENGTH

local f = {
	sport = ProtoField.uint16("homa.sport", "Source port", base.DEC),
	dport = ProtoField.uint16("homa.dport", "Destination port", base.DEC),
	seq = ProtoField.uint32("homa.seq", "Sequence", base.DEC),
	type = ProtoField.uint8("homa.type", "Type", base.HEX, TYPE_NAMES),
	doff = ProtoField.uint8("homa.doff", "Data offset byte", base.HEX),
	flags = ProtoField.uint8("homa.flags", "Flags", base.HEX),
	window = ProtoField.uint16("homa.window", "Window", base.DEC),
	checksum = ProtoField.uint16("homa.checksum", "Checksum", base.HEX),
	urgent = ProtoField.uint16("homa.urgent", "Urgent", base.HEX),
	sender_id = ProtoField.uint64("homa.sender_id", "Sender's RPC id", base.DEC),
	rpc = ProtoField.uint64("homa.rpc", "RPC (client's id)", base.DEC),
	priority = ProtoField.uint8("homa.priority", "Priority (from DSCP)", base.DEC),

	data_msg_len = ProtoField.uint32("homa.data.message_length", "Message length", base.DEC),
	data_incoming = ProtoField.uint32("homa.data.incoming", "Incoming", base.DEC),
	data_ack_id = ProtoField.uint64("homa.data.ack_client_id", "Ack: client id", base.DEC),
	data_ack_port = ProtoField.uint16("homa.data.ack_server_port", "Ack: server port", base.DEC),
	data_cutoff_ver = ProtoField.uint16("homa.data.cutoff_version", "Cutoff version", base.DEC),
	data_retransmit = ProtoField.uint8("homa.data.retransmit", "Retransmit", base.DEC),
	data_seg_offset = ProtoField.uint32("homa.data.seg_offset", "seg.offset", base.DEC),
	data_offset = ProtoField.uint32("homa.data.offset", "Offset", base.DEC),
	data_payload_len = ProtoField.uint32("homa.data.payload_length", "Payload length", base.DEC),

	grant_offset = ProtoField.uint32("homa.grant.offset", "Granted offset", base.DEC),
	grant_priority = ProtoField.uint8("homa.grant.priority", "Priority", base.DEC),

	resend_offset = ProtoField.uint32("homa.resend.offset", "Offset", base.DEC),
	resend_length = ProtoField.uint32("homa.resend.length", "Length", base.DEC),
	resend_priority = ProtoField.uint8("homa.resend.priority", "Priority", base.DEC),

	cutoffs_cutoff = ProtoField.uint32("homa.cutoffs.cutoff", "Unscheduled cutoff", base.DEC),
	cutoffs_version = ProtoField.uint16("homa.cutoffs.version", "Cutoff version", base.DEC),

	ack_num = ProtoField.uint16("homa.ack.num_acks", "Number of acks", base.DEC),
	ack_client_id = ProtoField.uint64("homa.ack.client_id", "Acked client id", base.DEC),
	ack_server_port = ProtoField.uint16("homa.ack.server_port", "Acked server port", base.DEC),
}
homa.fields = {
	f.sport, f.dport, f.seq, f.type, f.doff, f.flags, f.window, f.checksum,
	f.urgent, f.sender_id, f.rpc, f.priority,
	f.data_msg_len, f.data_incoming, f.data_ack_id, f.data_ack_port,
	f.data_cutoff_ver, f.data_retransmit, f.data_seg_offset, f.data_offset,
	f.data_payload_len,
	f.grant_offset, f.grant_priority,
	f.resend_offset, f.resend_length, f.resend_priority,
	f.cutoffs_cutoff, f.cutoffs_version,
	f.ack_num, f.ack_client_id, f.ack_server_port,
}

local MALFORMED, PROTOCOL, SEQUENCE = expert.group.MALFORMED,
	expert.group.PROTOCOL, expert.group.SEQUENCE
local ex = {
	short = ProtoExpert.new("homa.short", "Shorter than the common header",
		MALFORMED, expert.severity.ERROR),
	bad_type = ProtoExpert.new("homa.bad_type", "Unknown packet type",
		MALFORMED, expert.severity.ERROR),
	short_type = ProtoExpert.new("homa.short_type", "Shorter than its type's header",
		MALFORMED, expert.severity.ERROR),
	truncated = ProtoExpert.new("homa.truncated", "Header cut off by the capture",
		MALFORMED, expert.severity.WARN),
	bad_doff = ProtoExpert.new("homa.bad_doff", "doff wrong for the type",
		MALFORMED, expert.severity.WARN),
	bad_msg_len = ProtoExpert.new("homa.bad_msg_len", "DATA message_length 0 or too large",
		MALFORMED, expert.severity.WARN),
	data_range = ProtoExpert.new("homa.data_range", "DATA payload outside the message",
		MALFORMED, expert.severity.WARN),
	many_acks = ProtoExpert.new("homa.many_acks", "num_acks above 5 (receivers clamp it)",
		MALFORMED, expert.severity.WARN),
	upstream_resend = ProtoExpert.new("homa.upstream_resend",
		"36-byte RESEND (upstream form, no priority byte)", PROTOCOL, expert.severity.NOTE),
	retransmit = ProtoExpert.new("homa.retransmission", "Retransmitted DATA",
		SEQUENCE, expert.severity.NOTE),
	resend = ProtoExpert.new("homa.resend_request", "Retransmission request",
		SEQUENCE, expert.severity.NOTE),
}
homa.experts = {
	ex.short, ex.bad_type, ex.short_type, ex.truncated, ex.bad_doff,
	ex.bad_msg_len, ex.data_range, ex.many_acks, ex.upstream_resend,
	ex.retransmit, ex.resend,
}

homa.prefs.udp_ports = Pref.range("UDP ports", "",
	"UDP ports always decoded as Homa (the heuristic finds the others)", 65535)
homa.prefs.heuristic = Pref.bool("Find Homa in any UDP datagram", true,
	"Check every UDP datagram's payload for a Homa common header")

-- DSCP of the carrying IP header (innermost if there are several).
local fld_ip_dscp = Field.new("ip.dsfield.dscp")
local fld_ip6_dscp = Field.new("ipv6.tclass.dscp")

local function last_value(field)
	local all = { field() }
	if #all == 0 then return nil end
	return all[#all].value
end

-- The Homa priority is the top 3 bits of the 6-bit DSCP (spec 1.10).
local function priority_of(pinfo)
	local dscp
	if pinfo.net_src and tostring(pinfo.net_src):find(":") then
		dscp = last_value(fld_ip6_dscp) or last_value(fld_ip_dscp)
	else
		dscp = last_value(fld_ip_dscp) or last_value(fld_ip6_dscp)
	end
	if dscp == nil then return nil end
	return math.floor(dscp / 8)
end

-- The RPC id of the client: the sender's id with the low bit cleared.
local function client_id(id64)
	return id64:band(UInt64.new(0xFFFFFFFE, 0xFFFFFFFF))
end

local function u64str(v) return tostring(v) end

-- Add the per-type body of a non-DATA packet; returns Info text.
local function dissect_grant(tvb, t)
	t:add(f.grant_offset, tvb(28, 4))
	t:add(f.grant_priority, tvb(32, 1))
	return string.format(" off %u prio %u", tvb(28, 4):uint(), tvb(32, 1):uint())
end

local function dissect_resend(tvb, t, len)
	local length = tvb(32, 4):uint()
	local prio
	t:add(f.resend_offset, tvb(28, 4))
	t:add(f.resend_length, tvb(32, 4))
	if len > 36 then
		t:add(f.resend_priority, tvb(36, 1))
		prio = tostring(tvb(36, 1):uint())
	else
		t:add_proto_expert_info(ex.upstream_resend)
		prio = "-"
	end
	t:add_proto_expert_info(ex.resend)
	return string.format(" off %u len %s prio %s", tvb(28, 4):uint(),
		length == RESEND_ALL and "all" or tostring(length), prio)
end

local function dissect_cutoffs(tvb, t)
	local c = {}
	for i = 0, NUM_CUTOFFS - 1 do
		t:add(f.cutoffs_cutoff, tvb(28 + 4 * i, 4))
		c[#c + 1] = tostring(tvb(28 + 4 * i, 4):uint())
	end
	t:add(f.cutoffs_version, tvb(60, 2))
	return string.format(" version %u cutoffs %s", tvb(60, 2):uint(),
		table.concat(c, ","))
end

local function dissect_ack(tvb, t)
	local n = tvb(28, 2):uint()
	local item = t:add(f.ack_num, tvb(28, 2))
	local acks = {}
	if n > MAX_ACKS then
		item:add_proto_expert_info(ex.many_acks,
			string.format("num_acks %u above %u: receivers clamp it", n, MAX_ACKS))
		n = MAX_ACKS
	end
	for i = 0, n - 1 do
		local e = 30 + 10 * i
		t:add(f.ack_client_id, tvb(e, 8))
		t:add(f.ack_server_port, tvb(e + 8, 2))
		acks[#acks + 1] = u64str(tvb(e, 8):uint64()) .. ":" ..
			tostring(tvb(e + 8, 2):uint())
	end
	if #acks == 0 then return " acks none" end
	return " acks " .. table.concat(acks, ",")
end

-- DATA body; @len is the reported length (payload bytes count even when
-- the capture kept only the headers). Returns Info text.
local function dissect_data(tvb, t, len, pinfo, root)
	local msg_len = tvb(28, 4):uint()
	local seq = tvb(4, 4):uint()
	local seg = tvb(52, 4):uint()
	local off = (seg ~= SEG_OFFSET_IN_SEQ) and seg or seq
	local payload = len - 56
	local ack_id = tvb(36, 8):uint64()

	local item = t:add(f.data_msg_len, tvb(28, 4))
	if msg_len == 0 or msg_len > MAX_MESSAGE_BYTES then
		item:add_proto_expert_info(ex.bad_msg_len, string.format(
			"[BAD_MSG_LEN] message_length %u is not in 1..%u", msg_len,
			MAX_MESSAGE_BYTES))
	end
	t:add(f.data_incoming, tvb(32, 4))
	t:add(f.data_ack_id, tvb(36, 8))
	t:add(f.data_ack_port, tvb(44, 2))
	t:add(f.data_cutoff_ver, tvb(46, 2))
	local rt = t:add(f.data_retransmit, tvb(48, 1))
	if tvb(48, 1):uint() ~= 0 then
		rt:add_proto_expert_info(ex.retransmit)
	end
	t:add(f.data_seg_offset, tvb(52, 4))
	t:add(f.data_offset, tvb(seg ~= SEG_OFFSET_IN_SEQ and 52 or 4, 4), off)
		:set_generated()
	local pl = t:add(f.data_payload_len, payload):set_generated()
	if msg_len ~= 0 and msg_len <= MAX_MESSAGE_BYTES and
		(off >= msg_len or payload == 0 or payload > msg_len - off) then
		pl:add_proto_expert_info(ex.data_range, string.format(
			"[DATA_RANGE] bytes %u-%u (%u bytes) are not inside a %u-byte message",
			off, off + payload, payload, msg_len))
	end
	if payload > 0 and tvb:len() > 56 then
		Dissector.get("data"):call(tvb(56):tvb(), pinfo, root)
	end
	local info = string.format(" off %u-%u/%u", off, off + payload, msg_len)
	if tvb(48, 1):uint() ~= 0 then info = info .. " retx" end
	if u64str(ack_id) ~= "0" then
		info = info .. " ack " .. u64str(ack_id)
	end
	return info
end

local BODY = {
	[T_GRANT] = dissect_grant, [T_RESEND] = dissect_resend,
	[T_CUTOFFS] = dissect_cutoffs, [T_ACK] = dissect_ack,
}

local function expected_doff(type)
	if type == T_DATA then return "0xe0 or 0xd0" end
	return "0x50"
end

function homa.dissector(tvb, pinfo, tree)
	local len = tvb:reported_length_remaining()
	local cap = tvb:len()
	pinfo.cols.protocol = "Homa"
	local t = tree:add(homa, tvb())

	if len < COMMON_BYTES then
		t:add_proto_expert_info(ex.short, string.format(
			"[SHORT] %u bytes; the common header needs %u", len, COMMON_BYTES))
		pinfo.cols.info = string.format("Homa, %u bytes: too short", len)
		return len
	end
	if cap < COMMON_BYTES then
		t:add_proto_expert_info(ex.truncated, string.format(
			"only %u of %u bytes captured", cap, len))
		pinfo.cols.info = "Homa (header not captured)"
		return cap
	end

	local type = tvb(11, 1):uint()
	local doff = tvb(12, 1):uint()
	local name = TYPE_NAMES[type]
	local id = tvb(20, 8):uint64()
	local rpc = client_id(id)

	t:add(f.sport, tvb(0, 2))
	t:add(f.dport, tvb(2, 2))
	t:add(f.seq, tvb(4, 4))
	local ti = t:add(f.type, tvb(11, 1))
	local di = t:add(f.doff, tvb(12, 1))
	t:add(f.flags, tvb(13, 1))
	t:add(f.window, tvb(14, 2))
	t:add(f.checksum, tvb(16, 2))
	t:add(f.urgent, tvb(18, 2))
	t:add(f.sender_id, tvb(20, 8))
	t:add(f.rpc, tvb(20, 8), rpc):set_generated()
	local prio = priority_of(pinfo)
	if prio ~= nil then
		t:add(f.priority, prio):set_generated()
	end
	t:append_text(string.format(", %s, id %s, %u > %u", name or "unknown",
		u64str(rpc), tvb(0, 2):uint(), tvb(2, 2):uint()))

	if name == nil then
		ti:add_proto_expert_info(ex.bad_type, string.format(
			"[BAD_TYPE] type 0x%02x is not 0x10..0x18", type))
		pinfo.cols.info = string.format("Homa type 0x%02x (unknown)", type)
		return len
	end
	local info = string.format("%s id %s", name, u64str(rpc))
	if len < MIN_BYTES[type] then
		ti:add_proto_expert_info(ex.short_type, string.format(
			"[SHORT_TYPE] %u bytes; %s needs %u", len, name, MIN_BYTES[type]))
		pinfo.cols.info = info .. " (too short)"
		return len
	end
	-- (A 37-byte RESEND cut to 36 bytes by the capture is not upstream's.)
	local header = (type == T_RESEND and len > 36) and 37 or MIN_BYTES[type]
	if cap < header then
		t:add_proto_expert_info(ex.truncated, string.format(
			"only %u of %u header bytes captured", cap, header))
		pinfo.cols.info = info .. " (header not captured)"
		return cap
	end
	local doff_ok
	if type == T_DATA then
		doff_ok = doff == DOFF_DATA or doff == DOFF_DATA_GSO
	else
		doff_ok = doff == DOFF_CONTROL
	end
	if not doff_ok then
		di:add_proto_expert_info(ex.bad_doff, string.format(
			"[BAD_DOFF] doff 0x%02x; %s expects %s", doff, name,
			expected_doff(type)))
	end

	if type == T_DATA then
		info = info .. dissect_data(tvb, t, len, pinfo, tree)
	elseif BODY[type] then
		info = info .. BODY[type](tvb, t, len)
	end
	if prio ~= nil and type ~= T_GRANT and type ~= T_RESEND then
		info = info .. " prio " .. prio
	end
	pinfo.cols.info = info
	return len
end

-- Homa over UDP: the UDP ports are the Homa ports, and the common header
-- has a known type, the doff of that type and room for its header.
local function heuristic(tvb, pinfo, tree)
	if not homa.prefs.heuristic then return false end
	if tvb:len() < COMMON_BYTES then return false end
	local type = tvb(11, 1):uint()
	local min = MIN_BYTES[type]
	if min == nil or tvb:reported_length_remaining() < min then return false end
	if tvb(0, 2):uint() ~= pinfo.src_port or tvb(2, 2):uint() ~= pinfo.dst_port then
		return false
	end
	local doff = tvb(12, 1):uint()
	local flags, urgent = tvb(13, 1):uint(), tvb(18, 2):uint()
	local marked = flags == HIJACK_FLAGS and urgent == HIJACK_URGENT
	-- Receivers accept any doff (the 2025-10 kernel sends 0): with the
	-- full-build marks, so does this.
	if type == T_DATA and not marked then
		if doff ~= DOFF_DATA and doff ~= DOFF_DATA_GSO then return false end
	elseif doff ~= DOFF_CONTROL and not marked then
		return false
	end
	homa.dissector(tvb, pinfo, tree)
	return true
end

local udp_table = DissectorTable.get("udp.port")
local current_ports = ""

function homa.prefs_changed()
	if current_ports ~= "" then
		udp_table:remove(current_ports, homa)
	end
	current_ports = tostring(homa.prefs.udp_ports or "")
	if current_ports ~= "" then
		udp_table:add(current_ports, homa)
	end
end

DissectorTable.get("ip.proto"):add(146, homa)
homa:register_heuristic("udp", heuristic)
