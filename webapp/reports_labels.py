"""English and Chinese labels of the reports area (keys start with ``rep_``).

Columns are ``rep_col_<column>``, report titles ``rep_title_<report>``, filters
``rep_flt_<filter>``, intervals ``rep_iv_<interval>``, quick ranges ``rep_q_<range>``.
:func:`label` falls back to a readable form of the name for what has no entry (the
IVR report's ``exit_<key>`` columns depend on the flows).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from webapp.i18n import CATALOG, translate

_PAGE = {
    "rep_nav": ("Reports", "报表"),
    "rep_index_title": ("Reports", "报表"),
    "rep_index_intro": ("Choose a report. Every time is on the site's clock.", "请选择报表。所有时间均为本站点时区。"),
    "rep_tz": ("Time zone", "时区"),
    "rep_run": ("Run report", "生成报表"),
    "rep_from": ("From", "开始"),
    "rep_to": ("To (not included)", "结束（不含）"),
    "rep_interval": ("Interval", "时间粒度"),
    "rep_by": ("Group by", "分组"),
    "rep_by_none": ("Totals only", "仅合计"),
    "rep_filters": ("Filters", "筛选条件"),
    "rep_filters_hint": ("Several values: separate them with commas.", "多个值请用逗号分隔。"),
    "rep_quick": ("Quick ranges", "快速选择"),
    "rep_results": ("Results", "结果"),
    "rep_rows": ("rows", "行"),
    "rep_rows_more": ("more rows follow", "后面还有更多行"),
    "rep_no_rows": ("No rows in this range.", "该时间范围内没有数据。"),
    "rep_page": ("Page", "第几页"),
    "rep_prev": ("Previous page", "上一页"),
    "rep_next": ("Next page", "下一页"),
    "rep_download": ("Download", "下载"),
    "rep_csv": ("CSV", "CSV"),
    "rep_xlsx": ("Excel (XLSX)", "Excel (XLSX)"),
    "rep_chart_over_time": ("Over time: total of every row of the report", "随时间变化：报表所有行的合计"),
    "rep_calc_chart": ("Calls and agents needed per interval", "每个时段的来电量和所需坐席数"),
    "rep_chart_table_note": ("The numbers are in the table below.", "具体数值见下表。"),
    "rep_heat_map": ("By weekday and hour (sum over the range)", "按星期和小时（区间内合计）"),
    "rep_heat_hint": ("Run with a 30-minute or hourly interval to see the weekday × hour heat map.",
                      "选择 30 分钟或小时粒度即可查看星期 × 小时热力图。"),
    "rep_ivr_tree": ("IVR tree", "IVR 流程树"),
    "rep_version": ("version", "版本"),
    "rep_visits": ("visits", "进入"),
    "rep_drop_offs": ("drop-offs", "挂断"),
    "rep_back_to": ("back to", "返回到"),
    "rep_other_nodes": ("Nodes the definition does not place", "未在流程定义中找到位置的节点"),
    "rep_no_definition": ("The flow's definition was not found: its nodes are listed without links.",
                          "未找到该流程定义：仅列出节点。"),
    "rep_method": ("Forecast method", "预测方法"),
    "rep_method_same_slot_mean": ("same weekday and interval, mean of the last {weeks} weeks of history",
                                  "同一星期几的同一时段，取最近 {weeks} 周历史数据的平均值"),
    "rep_method_same_slot_mean_one": ("same weekday and interval, one week earlier", "同一星期几的同一时段，取一周前的数据"),
    "rep_failed": ("The report could not be built; the problem has been logged.", "报表生成失败，问题已记录。"),
    "rep_yes": ("yes", "是"),
    "rep_no": ("no", "否"),
    "rep_staffing_calc_link": ("Enter volumes yourself: Erlang calculator", "自行输入话务量：Erlang 计算器"),
    "rep_staffing_report_link": ("Forecast from history: staffing report", "根据历史预测：人员配置报表"),
    "rep_calc_title": ("Erlang calculator", "Erlang 计算器"),
    "rep_calc_intro": (
        "Agents needed per interval for the calls you enter. Erlang C assumes callers wait as long as it "
        "takes; give a mean patience to also compute Erlang A, where callers may hang up. Add shrinkage "
        "(breaks, training) on top.",
        "根据输入的话务量计算每个时段所需坐席数。Erlang C 假设来电者一直等待；填写平均耐心时长即可同时计算"
        "允许放弃的 Erlang A。请另行加上休息、培训等损耗。"),
    "rep_calc_start": ("First interval starts at", "第一个时段开始时间"),
    "rep_calc_minutes": ("Interval length (minutes)", "时段长度（分钟）"),
    "rep_calc_calls": ("Calls per interval", "每个时段的来电量"),
    "rep_calc_calls_hint": ("One number per interval, separated by spaces, commas or new lines.",
                            "每个时段一个数字，用空格、逗号或换行分隔。"),
    "rep_calc_aht": ("Average handle time (seconds)", "平均处理时长（秒）"),
    "rep_calc_target": ("Service-level target (%)", "服务水平目标（%）"),
    "rep_calc_threshold": ("Answered within (seconds)", "接听时限（秒）"),
    "rep_calc_patience": ("Mean caller patience (seconds; optional, for Erlang A)", "来电者平均耐心（秒，可选，用于 Erlang A）"),
    "rep_calc_compute": ("Calculate", "计算"),
}

_TITLES = {
    "inbound_summary": ("Queue summary", "队列汇总"),
    "abandoned_calls": ("Abandoned calls", "放弃来电"),
    "repeat_calls": ("Repeat calls", "重复来电"),
    "outbound_summary": ("Outbound summary", "外呼汇总"),
    "agent_performance": ("Agent performance", "坐席绩效"),
    "agent_state_detail": ("Agent states", "坐席状态"),
    "call_detail": ("Call detail records", "通话详单"),
    "voicemail_handling": ("Voicemail handling", "留言处理"),
    "ivr_tree": ("IVR tree", "IVR 流程树"),
    "campaign_results": ("Campaign results", "外呼活动结果"),
    "staffing": ("Staffing forecast (Erlang C / Erlang A)", "人员配置预测（Erlang C / Erlang A）"),
}

_QUICK = {
    "today": ("Today", "今天"), "yesterday": ("Yesterday", "昨天"), "this_week": ("This week", "本周"),
    "last_7_days": ("Last 7 days", "过去 7 天"), "this_month": ("This month", "本月"),
    "last_month": ("Last month", "上月"), "tomorrow": ("Tomorrow", "明天"), "next_7_days": ("Next 7 days", "未来 7 天"),
}

_INTERVALS = {
    "30min": ("30 minutes", "30 分钟"), "hour": ("Hour", "小时"), "day": ("Day", "天"), "week": ("Week", "周"),
    "month": ("Month", "月"), "quarter": ("Quarter", "季度"), "year": ("Year", "年"),
    "custom": ("Whole range", "整个区间"),
}

_FILTERS = {
    "queue": ("Queues", "队列"), "did": ("Dialled number (DID)", "被叫号码 (DID)"), "agent_id": ("Agents", "坐席"),
    "campaign_id": ("Campaigns", "外呼活动"), "direction": ("Direction", "方向"),
    "caller_number": ("Phone number", "电话号码"), "outcome": ("Outcome", "结果"), "box": ("Voicemail boxes", "留言箱"),
    "flow": ("IVR flows", "IVR 流程"), "source": ("Data source", "数据来源"),
    "sl_threshold": ("Service-level threshold (s)", "服务水平时限（秒）"),
    "short_abandon": ("Short abandon under (s)", "短时放弃阈值（秒）"),
    "target_sl": ("Service-level target (0-1, e.g. 0.8)", "服务水平目标（0-1，如 0.8）"),
    "weeks": ("Weeks of history", "历史周数"), "aht": ("Handle time override (s)", "指定处理时长（秒）"),
    "patience": ("Caller patience override (s)", "指定来电者耐心（秒）"),
}

_COLUMNS = {
    "interval_start": ("Interval", "时段"), "queue": ("Queue", "队列"), "did": ("DID", "DID"),
    "visits": ("Visits", "进入次数"), "offered": ("Offered", "呼入量"), "answered": ("Answered", "接听量"),
    "abandoned": ("Abandoned", "放弃量"), "short_abandoned": ("Short abandons", "短时放弃"),
    "answered_within": ("Answered in threshold", "时限内接听"), "abandoned_after": ("Abandoned after threshold", "时限后放弃"),
    "overflowed": ("Overflowed", "溢出"), "voicemail": ("To voicemail", "转留言"), "callback": ("Callback", "回呼"),
    "transferred": ("Transferred", "转接"), "answer_wait_s": ("Wait before answer (total)", "应答前等待（合计）"),
    "abandon_wait_s": ("Wait before abandon (total)", "放弃前等待（合计）"), "waited_s": ("Wait (total)", "等待（合计）"),
    "talk_s": ("Talk (total)", "通话（合计）"), "hold_s": ("Hold (total)", "保持（合计）"),
    "wrapup_s": ("Wrap-up (total)", "话后处理（合计）"), "longest_wait_s": ("Longest wait", "最长等待"),
    "service_level": ("Service level", "服务水平"), "abandon_rate": ("Abandon rate", "放弃率"),
    "asa_s": ("ASA", "平均应答速度"), "avg_abandon_wait_s": ("Avg wait before abandon", "平均放弃前等待"),
    "aht_s": ("AHT", "平均处理时长"), "avg_talk_s": ("Avg talk", "平均通话"), "avg_hold_s": ("Avg hold", "平均保持"),
    "avg_wrapup_s": ("Avg wrap-up", "平均话后处理"), "transfer_rate": ("Transfer rate", "转接率"),
    "interaction_id": ("Call id", "通话 ID"), "caller_number": ("Caller", "主叫号码"), "entered_at": ("Entered", "进入时间"),
    "abandoned_at": ("Abandoned at", "放弃时间"), "wait_s": ("Wait", "等待"), "short_abandon": ("Short abandon", "短时放弃"),
    "called_again_24h": ("Called again in 24 h", "24 小时内再次来电"),
    "called_back_24h": ("Called back in 24 h", "24 小时内已回拨"),
    "calls": ("Calls", "来电量"), "repeat_24h": ("Repeated in 24 h", "24 小时内重复"),
    "repeat_7d": ("Repeated in 7 days", "7 天内重复"), "repeat_rate_24h": ("Repeat rate 24 h", "24 小时重复率"),
    "repeat_rate_7d": ("Repeat rate 7 days", "7 天重复率"), "campaign_id": ("Campaign", "外呼活动"),
    "agent_id": ("Agent id", "坐席 ID"), "attempts": ("Attempts", "拨打次数"), "handled": ("Handled", "已处理"),
    "connect_rate": ("Connect rate", "接通率"), "agent_code": ("Agent", "工号"), "agent_name": ("Name", "姓名"),
    "state": ("State", "状态"), "reason": ("Reason", "原因"), "seconds": ("Time", "时长"), "entries": ("Entries", "次数"),
    "direction": ("Direction", "方向"), "started_at": ("Started", "开始时间"), "caller_name": ("Caller name", "主叫姓名"),
    "callee_number": ("Called", "被叫号码"), "duration_s": ("Duration", "总时长"), "outcome": ("Outcome", "结果"),
    "disposition": ("Disposition", "处理结果"), "hangup_cause": ("Hang-up cause", "挂断原因"),
    "hangup_by": ("Hung up by", "挂断方"), "transfers": ("Transfers", "转接次数"), "flow_name": ("IVR flow", "IVR 流程"),
    "digits": ("Digits", "按键"), "box": ("Box", "留言箱"), "received": ("Received", "收到"),
    "assigned": ("Assigned", "已分配"), "new": ("New", "未处理"), "handled_within_24h": ("Handled in 24 h", "24 小时内处理"),
    "longest_handle_s": ("Longest to handle", "最长处理用时"), "avg_handle_s": ("Avg time to handle", "平均处理用时"),
    "handled_within_24h_rate": ("Handled in 24 h rate", "24 小时处理率"), "avg_length_s": ("Avg length", "平均留言时长"),
    "flow": ("Flow", "流程"), "flow_version": ("Version", "版本"), "node": ("Node", "节点"),
    "exits_total": ("Exits", "离开次数"), "drop_offs": ("Drop-offs", "挂断数"), "drop_off_rate": ("Drop-off rate", "挂断率"),
    "retries": ("Retries", "重试"), "avg_seconds": ("Avg time at node", "节点平均停留"), "contacts": ("Contacts dialled", "拨打联系人"),
    "campaign_name": ("Campaign name", "活动名称"), "display_name": ("Display name", "显示名称"), "mode": ("Mode", "模式"),
    "contacts_total": ("Contacts", "联系人总数"), "contacts_remaining": ("Remaining", "剩余"),
    "contacts_done": ("Done", "已完成"), "offers": ("Offers", "振铃次数"), "offers_answered": ("Offers answered", "接起次数"),
    "no_answer": ("No answer", "未接"), "rejected": ("Rejected", "拒接"), "handling_s": ("Handling", "处理中"),
    "available_s": ("Available", "空闲"), "not_ready_s": ("Not ready", "未就绪"), "other_s": ("Other", "其他"),
    "logged_in_s": ("Logged in", "登录时长"), "occupancy": ("Occupancy", "占用率"), "utilisation": ("Utilisation", "利用率"),
    "answer_rate": ("Answer rate", "接起率"), "forecast_calls": ("Forecast calls", "预测来电"),
    "forecast_aht_s": ("Forecast AHT", "预测处理时长"), "erlangs": ("Erlangs", "话务量 (Erlang)"),
    "agents_erlang_c": ("Agents (Erlang C)", "坐席数 (Erlang C)"), "sl_erlang_c": ("SL (Erlang C)", "服务水平 (Erlang C)"),
    "asa_erlang_c_s": ("ASA (Erlang C)", "平均应答速度 (Erlang C)"),
    "occupancy_erlang_c": ("Occupancy (Erlang C)", "占用率 (Erlang C)"),
    "agents_erlang_a": ("Agents (Erlang A)", "坐席数 (Erlang A)"), "sl_erlang_a": ("SL (Erlang A)", "服务水平 (Erlang A)"),
    "abandon_rate_erlang_a": ("Abandon rate (Erlang A)", "放弃率 (Erlang A)"), "patience_s": ("Patience", "耐心时长"),
    "weeks_used": ("Weeks used", "使用周数"), "sl_threshold_s": ("SL threshold", "服务水平时限"),
    "target_sl": ("SL target", "服务水平目标"), "method": ("Method", "方法"), "interval": ("Interval", "时段"),
}

_WEEKDAYS = {"Mon": ("Mon", "周一"), "Tue": ("Tue", "周二"), "Wed": ("Wed", "周三"), "Thu": ("Thu", "周四"),
             "Fri": ("Fri", "周五"), "Sat": ("Sat", "周六"), "Sun": ("Sun", "周日")}


def _entries() -> dict[str, dict[str, str]]:
    groups = {"": _PAGE, "title_": _TITLES, "q_": _QUICK, "iv_": _INTERVALS, "flt_": _FILTERS, "col_": _COLUMNS,
              "wd_": _WEEKDAYS}
    out: dict[str, dict[str, str]] = {}
    for prefix, table in groups.items():
        for key, (en, zh) in table.items():
            full = key if not prefix else f"rep_{prefix}{key}"
            out[full] = {"en": en, "zh": zh}
    return out


LABELS = _entries()


def label(kind: str, name: str, lang: str | None = None) -> str:
    """The label of ``name`` of ``kind`` (``col``, ``title``, ``flt`` ...), or a
    readable form of the name when the catalog has none."""
    key = f"rep_{kind}_{name}"
    if key in CATALOG:
        return translate(key, lang)
    return name.replace("_", " ").strip().capitalize()


def method_label(method: Mapping[str, Any], lang: str | None = None) -> str:
    """A forecast method (:class:`reports.forecast.ForecastMethod` as a dict: ``code``
    and ``weeks``) stated in the page's language, ``rep_method_<code>`` with the weeks
    filled in."""
    weeks = int(method["weeks"])
    key = f"rep_method_{method['code']}" + ("_one" if weeks == 1 else "")
    return translate(key, lang).format(weeks=weeks)
