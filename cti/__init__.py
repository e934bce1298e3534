"""The CTI core: settings, the PostgreSQL store, call and agent state rebuilt from
FreeSWITCH channel events, the domain event bus, recordings, voicemail, CDRs and the
``cti`` command line.

Pure logic (state machines, KPI math) lives beside the I/O shells that drive it; the
shells are composed in :mod:`cti.services`.
"""
