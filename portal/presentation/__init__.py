"""The one home of words and formats: vocabulary labels (``labels``), times, sizes and SLA
outcomes (``formatting``), the sentences of notices (``notices``) and of audit events
(``audit_sentences``), and the presenters (``presenters``), the only place where raw contact
data becomes text, masked or in full for the viewer.

Services (mail, exports, reports) and templates both use it. It imports the domain and the
models, never the services, the web layer or Flask's request state (docs/architecture.md).
"""
