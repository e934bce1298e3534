"""Flow definitions used by the flow and IVR tests."""

from __future__ import annotations

MAIN = """
name: main
version: 2
start: welcome
language: en
languages: [en, zh]
callers:
  blacklist: {action: reject, prompt: {en: rejected_en.wav, zh: 拒绝.wav}}
  vip_priority_boost: 20
shortcuts:
  menu: main_menu
  offer: {digit: "*", prompt: shortcut_offer.wav}
  save: {digit: "0", prompt: shortcut_saved.wav}
  quick_menu: {size: 2, prompt: quick_intro.wav, min_requests: 5}
nodes:
  welcome:
    type: play
    prompt: {en: welcome.wav, zh: 欢迎.wav}
    next: hours
  hours:
    type: condition
    test: {business_hours: office}
    then: holiday_check
    else: closed
  holiday_check:
    type: condition
    test: {holiday: office}
    then: closed
    else: language
  closed:
    type: hangup
    prompt: closed.wav
  language:
    type: language
    prompt: choose_language.wav
    options: {1: en, 2: zh}
    default: en
    next: main_menu
  main_menu:
    type: menu
    prompt: {default: main_menu.wav, zh: 主菜单.wav}
    options: {1: sales, 2: account, 3: leave_message, 9: operator}
    timeout_ms: 4000
    retries: 3
    invalid_prompt: invalid.wav
    timeout_prompt: no_input.wav
    on_failure: goodbye
  account:
    type: collect
    prompt: enter_account.wav
    variable: account
    min_length: 4
    max_length: 8
    pattern: "[0-9]+"
    retries: 2
    invalid_prompt: bad_account.wav
    next: lookup
    on_failure: support
  lookup:
    type: http_lookup
    url: "https://crm.example/customer?account={var_account}&caller={caller_number}"
    timeout_ms: 1500
    fields: {tier: tier, customer_name: name}
    next: tier
    on_failure: support
  tier:
    type: condition
    test: {variable: tier, in: [gold, platinum]}
    then: vip_support
    else: support
  vip_support:
    type: queue
    queue: support
    priority: 50
    skills: {billing: 7}
    label: support_label.wav
  support:
    type: queue
    queue: support
    label: support_label.wav
  sales:
    type: queue
    queue: sales
    label: sales_label.wav
  leave_message:
    type: voicemail
    box: "queue:sales"
    greeting: leave_message.wav
    max_seconds: 90
    event_codes: {1: order, 2: complaint}
    event_prompt: which_topic.wav
    label: voicemail_label.wav
  operator:
    type: transfer
    number: "+15550000"
    label: operator_label.wav
  goodbye:
    type: hangup
    cause: NORMAL_CLEARING
"""

SMALL = """
name: small
start: menu
nodes:
  menu:
    type: menu
    prompt: menu.wav
    options: {1: play, 2: pin}
    on_failure: bye
  play: {type: play, prompt: info.wav, next: set}
  set: {type: set, variables: {seen_info: "yes"}, next: check}
  check:
    type: condition
    test: {variable: seen_info, equals: "yes"}
    then: menu
    else: bye
  pin:
    type: collect
    prompt: pin.wav
    variable: pin
    secret: true
    min_length: 4
    max_length: 4
    next: known
    on_failure: bye
  known:
    type: condition
    test: {caller_in: customers}
    then: transfer
    else: bye
  transfer: {type: transfer, flow: other_flow}
  bye: {type: hangup}
"""
