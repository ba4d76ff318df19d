"""The model layer: one file per aggregate, typed SQLAlchemy 2.x."""

from .account import Account, AccountRole, Category, LoginSession, Skill, StaffSkill
from .base import Base, utcnow
from .delivery import Delivery, DeliveryCriterion, DeliveryItem, Signature
from .feedback import Feedback, ImprovementMeasure
from .group_bot import GroupBot
from .handling import HandlingRecord, HandlingStep
from .inbound import InboundMail
from .mailbox import Mailbox
from .notify import EmailOutbox, Notification
from .organisation import Department, Organisation
from .plans import PlanOccurrence, ServicePlan
from .preferences import DigestWatermark, NotificationPreference
from .privacy import ContactReveal
from .records import AuditEvent, ContactImport, DeskSetting, NumberSequence, VaguePhrase
from .reports import FeedbackReport, ReviewMeeting
from .service_request import (
    Assignment,
    Attachment,
    Classification,
    Collaborator,
    CooperationRequest,
    Message,
    ServiceRequest,
    SlaPause,
)
from .sla import Calendar, CalendarOverride, SlaEvent, SlaPolicy, SlaPolicyVersion, SlaTarget

__all__ = [
    "Account",
    "AccountRole",
    "Assignment",
    "Attachment",
    "AuditEvent",
    "Base",
    "Calendar",
    "Category",
    "CalendarOverride",
    "Classification",
    "Collaborator",
    "ContactImport",
    "ContactReveal",
    "CooperationRequest",
    "Delivery",
    "DeliveryCriterion",
    "DeliveryItem",
    "Department",
    "DigestWatermark",
    "DeskSetting",
    "EmailOutbox",
    "Feedback",
    "FeedbackReport",
    "GroupBot",
    "HandlingRecord",
    "HandlingStep",
    "ImprovementMeasure",
    "InboundMail",
    "LoginSession",
    "Mailbox",
    "Message",
    "Notification",
    "NotificationPreference",
    "NumberSequence",
    "Organisation",
    "PlanOccurrence",
    "ReviewMeeting",
    "ServicePlan",
    "ServiceRequest",
    "Signature",
    "Skill",
    "SlaEvent",
    "SlaPause",
    "SlaPolicy",
    "SlaPolicyVersion",
    "SlaTarget",
    "StaffSkill",
    "VaguePhrase",
    "utcnow",
]
