"""FreeSWITCH Event Socket: the sans-IO wire protocol (:mod:`esl.protocol`), typed
events (:mod:`esl.events`), safe command builders (:mod:`esl.commands`), the gevent
client on greenswitch (:mod:`esl.transport`, :mod:`esl.client`) and a simulator that
speaks the same wire protocol over TCP for tests, the demo and load (:mod:`esl.simulator`).
"""
