import datetime

from gaia.common.v1 import common_pb2 as _common_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AssetCategory(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ASSET_CATEGORY_UNSPECIFIED: _ClassVar[AssetCategory]
    ASSET_CATEGORY_ENVIRONMENT: _ClassVar[AssetCategory]
    ASSET_CATEGORY_CHARACTER: _ClassVar[AssetCategory]
    ASSET_CATEGORY_PROP: _ClassVar[AssetCategory]
    ASSET_CATEGORY_AUDIO: _ClassVar[AssetCategory]
    ASSET_CATEGORY_TEXTURE: _ClassVar[AssetCategory]
    ASSET_CATEGORY_ANIMATION: _ClassVar[AssetCategory]
    ASSET_CATEGORY_IMAGE: _ClassVar[AssetCategory]

class AssetQuality(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ASSET_QUALITY_UNSPECIFIED: _ClassVar[AssetQuality]
    ASSET_QUALITY_LOW: _ClassVar[AssetQuality]
    ASSET_QUALITY_MEDIUM: _ClassVar[AssetQuality]
    ASSET_QUALITY_HIGH: _ClassVar[AssetQuality]
    ASSET_QUALITY_ULTRA: _ClassVar[AssetQuality]

class AssetSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ASSET_SOURCE_UNSPECIFIED: _ClassVar[AssetSource]
    ASSET_SOURCE_DATABASE: _ClassVar[AssetSource]
    ASSET_SOURCE_MODIFIED: _ClassVar[AssetSource]
    ASSET_SOURCE_GENERATED: _ClassVar[AssetSource]

class StorageType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STORAGE_TYPE_UNSPECIFIED: _ClassVar[StorageType]
    STORAGE_TYPE_LOCAL: _ClassVar[StorageType]
    STORAGE_TYPE_S3: _ClassVar[StorageType]
    STORAGE_TYPE_SUPABASE: _ClassVar[StorageType]
    STORAGE_TYPE_EXTERNAL: _ClassVar[StorageType]

class LicenseType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LICENSE_TYPE_UNSPECIFIED: _ClassVar[LicenseType]
    LICENSE_TYPE_CREATIVE_COMMONS: _ClassVar[LicenseType]
    LICENSE_TYPE_PUBLIC_DOMAIN: _ClassVar[LicenseType]
    LICENSE_TYPE_CUSTOM: _ClassVar[LicenseType]
    LICENSE_TYPE_COMMERCIAL: _ClassVar[LicenseType]
    LICENSE_TYPE_PROPRIETARY: _ClassVar[LicenseType]

class GenerationStage(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GENERATION_STAGE_UNSPECIFIED: _ClassVar[GenerationStage]
    GENERATION_STAGE_QUEUED: _ClassVar[GenerationStage]
    GENERATION_STAGE_BUDGET_CHECKED: _ClassVar[GenerationStage]
    GENERATION_STAGE_PROVIDER_CALLED: _ClassVar[GenerationStage]
    GENERATION_STAGE_POLLING: _ClassVar[GenerationStage]
    GENERATION_STAGE_STORED: _ClassVar[GenerationStage]

class PricingModel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PRICING_MODEL_UNSPECIFIED: _ClassVar[PricingModel]
    PRICING_MODEL_TIER_BASED: _ClassVar[PricingModel]
    PRICING_MODEL_CREDIT_BASED: _ClassVar[PricingModel]
    PRICING_MODEL_PER_IMAGE: _ClassVar[PricingModel]
    PRICING_MODEL_TOKEN_BASED: _ClassVar[PricingModel]
ASSET_CATEGORY_UNSPECIFIED: AssetCategory
ASSET_CATEGORY_ENVIRONMENT: AssetCategory
ASSET_CATEGORY_CHARACTER: AssetCategory
ASSET_CATEGORY_PROP: AssetCategory
ASSET_CATEGORY_AUDIO: AssetCategory
ASSET_CATEGORY_TEXTURE: AssetCategory
ASSET_CATEGORY_ANIMATION: AssetCategory
ASSET_CATEGORY_IMAGE: AssetCategory
ASSET_QUALITY_UNSPECIFIED: AssetQuality
ASSET_QUALITY_LOW: AssetQuality
ASSET_QUALITY_MEDIUM: AssetQuality
ASSET_QUALITY_HIGH: AssetQuality
ASSET_QUALITY_ULTRA: AssetQuality
ASSET_SOURCE_UNSPECIFIED: AssetSource
ASSET_SOURCE_DATABASE: AssetSource
ASSET_SOURCE_MODIFIED: AssetSource
ASSET_SOURCE_GENERATED: AssetSource
STORAGE_TYPE_UNSPECIFIED: StorageType
STORAGE_TYPE_LOCAL: StorageType
STORAGE_TYPE_S3: StorageType
STORAGE_TYPE_SUPABASE: StorageType
STORAGE_TYPE_EXTERNAL: StorageType
LICENSE_TYPE_UNSPECIFIED: LicenseType
LICENSE_TYPE_CREATIVE_COMMONS: LicenseType
LICENSE_TYPE_PUBLIC_DOMAIN: LicenseType
LICENSE_TYPE_CUSTOM: LicenseType
LICENSE_TYPE_COMMERCIAL: LicenseType
LICENSE_TYPE_PROPRIETARY: LicenseType
GENERATION_STAGE_UNSPECIFIED: GenerationStage
GENERATION_STAGE_QUEUED: GenerationStage
GENERATION_STAGE_BUDGET_CHECKED: GenerationStage
GENERATION_STAGE_PROVIDER_CALLED: GenerationStage
GENERATION_STAGE_POLLING: GenerationStage
GENERATION_STAGE_STORED: GenerationStage
PRICING_MODEL_UNSPECIFIED: PricingModel
PRICING_MODEL_TIER_BASED: PricingModel
PRICING_MODEL_CREDIT_BASED: PricingModel
PRICING_MODEL_PER_IMAGE: PricingModel
PRICING_MODEL_TOKEN_BASED: PricingModel

class AssetRequirements(_message.Message):
    __slots__ = ("platform", "quality", "polygon_count_max", "file_size_max_mb", "format")
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    POLYGON_COUNT_MAX_FIELD_NUMBER: _ClassVar[int]
    FILE_SIZE_MAX_MB_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    platform: str
    quality: AssetQuality
    polygon_count_max: int
    file_size_max_mb: int
    format: str
    def __init__(self, platform: _Optional[str] = ..., quality: _Optional[_Union[AssetQuality, str]] = ..., polygon_count_max: _Optional[int] = ..., file_size_max_mb: _Optional[int] = ..., format: _Optional[str] = ...) -> None: ...

class AssetPreferences(_message.Message):
    __slots__ = ("allow_database", "allow_modifications", "allow_generation", "max_cost", "max_wait_time_ms")
    ALLOW_DATABASE_FIELD_NUMBER: _ClassVar[int]
    ALLOW_MODIFICATIONS_FIELD_NUMBER: _ClassVar[int]
    ALLOW_GENERATION_FIELD_NUMBER: _ClassVar[int]
    MAX_COST_FIELD_NUMBER: _ClassVar[int]
    MAX_WAIT_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    allow_database: bool
    allow_modifications: bool
    allow_generation: bool
    max_cost: float
    max_wait_time_ms: int
    def __init__(self, allow_database: bool = ..., allow_modifications: bool = ..., allow_generation: bool = ..., max_cost: _Optional[float] = ..., max_wait_time_ms: _Optional[int] = ...) -> None: ...

class AssetData(_message.Message):
    __slots__ = ("download_url", "preview_image_url", "file_format", "file_size_mb", "quality_score", "license_type", "attribution_required")
    DOWNLOAD_URL_FIELD_NUMBER: _ClassVar[int]
    PREVIEW_IMAGE_URL_FIELD_NUMBER: _ClassVar[int]
    FILE_FORMAT_FIELD_NUMBER: _ClassVar[int]
    FILE_SIZE_MB_FIELD_NUMBER: _ClassVar[int]
    QUALITY_SCORE_FIELD_NUMBER: _ClassVar[int]
    LICENSE_TYPE_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTION_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    download_url: str
    preview_image_url: str
    file_format: str
    file_size_mb: float
    quality_score: float
    license_type: LicenseType
    attribution_required: bool
    def __init__(self, download_url: _Optional[str] = ..., preview_image_url: _Optional[str] = ..., file_format: _Optional[str] = ..., file_size_mb: _Optional[float] = ..., quality_score: _Optional[float] = ..., license_type: _Optional[_Union[LicenseType, str]] = ..., attribution_required: bool = ...) -> None: ...

class StorageInfo(_message.Message):
    __slots__ = ("storage_type", "bucket_name", "file_path", "external_source")
    STORAGE_TYPE_FIELD_NUMBER: _ClassVar[int]
    BUCKET_NAME_FIELD_NUMBER: _ClassVar[int]
    FILE_PATH_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_SOURCE_FIELD_NUMBER: _ClassVar[int]
    storage_type: StorageType
    bucket_name: str
    file_path: str
    external_source: str
    def __init__(self, storage_type: _Optional[_Union[StorageType, str]] = ..., bucket_name: _Optional[str] = ..., file_path: _Optional[str] = ..., external_source: _Optional[str] = ...) -> None: ...

class Asset(_message.Message):
    __slots__ = ("asset_id", "source", "cost", "response_time_ms", "asset_data", "storage_info", "metadata", "title", "category", "style_tags", "created_at", "description")
    ASSET_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    ASSET_DATA_FIELD_NUMBER: _ClassVar[int]
    STORAGE_INFO_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    STYLE_TAGS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    asset_id: str
    source: AssetSource
    cost: float
    response_time_ms: int
    asset_data: AssetData
    storage_info: StorageInfo
    metadata: _struct_pb2.Struct
    title: str
    category: AssetCategory
    style_tags: _containers.RepeatedScalarFieldContainer[str]
    created_at: _timestamp_pb2.Timestamp
    description: str
    def __init__(self, asset_id: _Optional[str] = ..., source: _Optional[_Union[AssetSource, str]] = ..., cost: _Optional[float] = ..., response_time_ms: _Optional[int] = ..., asset_data: _Optional[_Union[AssetData, _Mapping]] = ..., storage_info: _Optional[_Union[StorageInfo, _Mapping]] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., title: _Optional[str] = ..., category: _Optional[_Union[AssetCategory, str]] = ..., style_tags: _Optional[_Iterable[str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., description: _Optional[str] = ...) -> None: ...

class GenerateAssetRequest(_message.Message):
    __slots__ = ("category", "style", "description", "requirements", "preferences", "session_id")
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    STYLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    REQUIREMENTS_FIELD_NUMBER: _ClassVar[int]
    PREFERENCES_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    category: AssetCategory
    style: str
    description: str
    requirements: AssetRequirements
    preferences: AssetPreferences
    session_id: str
    def __init__(self, category: _Optional[_Union[AssetCategory, str]] = ..., style: _Optional[str] = ..., description: _Optional[str] = ..., requirements: _Optional[_Union[AssetRequirements, _Mapping]] = ..., preferences: _Optional[_Union[AssetPreferences, _Mapping]] = ..., session_id: _Optional[str] = ...) -> None: ...

class GenerateAssetResponse(_message.Message):
    __slots__ = ("generation_id", "progress", "done", "failed")
    GENERATION_ID_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    generation_id: str
    progress: GenerationProgress
    done: GenerationDone
    failed: _common_pb2.Failure
    def __init__(self, generation_id: _Optional[str] = ..., progress: _Optional[_Union[GenerationProgress, _Mapping]] = ..., done: _Optional[_Union[GenerationDone, _Mapping]] = ..., failed: _Optional[_Union[_common_pb2.Failure, _Mapping]] = ...) -> None: ...

class GenerationProgress(_message.Message):
    __slots__ = ("stage", "message", "percent", "provider")
    STAGE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    PERCENT_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    stage: GenerationStage
    message: str
    percent: int
    provider: str
    def __init__(self, stage: _Optional[_Union[GenerationStage, str]] = ..., message: _Optional[str] = ..., percent: _Optional[int] = ..., provider: _Optional[str] = ...) -> None: ...

class GenerationDone(_message.Message):
    __slots__ = ("asset",)
    ASSET_FIELD_NUMBER: _ClassVar[int]
    asset: Asset
    def __init__(self, asset: _Optional[_Union[Asset, _Mapping]] = ...) -> None: ...

class ListAssetsRequest(_message.Message):
    __slots__ = ("page", "category", "style", "query")
    PAGE_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    STYLE_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    page: _common_pb2.PageRequest
    category: AssetCategory
    style: str
    query: str
    def __init__(self, page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ..., category: _Optional[_Union[AssetCategory, str]] = ..., style: _Optional[str] = ..., query: _Optional[str] = ...) -> None: ...

class ListAssetsResponse(_message.Message):
    __slots__ = ("assets", "total")
    ASSETS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    assets: _containers.RepeatedCompositeFieldContainer[Asset]
    total: int
    def __init__(self, assets: _Optional[_Iterable[_Union[Asset, _Mapping]]] = ..., total: _Optional[int] = ...) -> None: ...

class GetAssetRequest(_message.Message):
    __slots__ = ("asset_id",)
    ASSET_ID_FIELD_NUMBER: _ClassVar[int]
    asset_id: str
    def __init__(self, asset_id: _Optional[str] = ...) -> None: ...

class GetAssetResponse(_message.Message):
    __slots__ = ("asset",)
    ASSET_FIELD_NUMBER: _ClassVar[int]
    asset: Asset
    def __init__(self, asset: _Optional[_Union[Asset, _Mapping]] = ...) -> None: ...

class DownloadAssetRequest(_message.Message):
    __slots__ = ("asset_id",)
    ASSET_ID_FIELD_NUMBER: _ClassVar[int]
    asset_id: str
    def __init__(self, asset_id: _Optional[str] = ...) -> None: ...

class DownloadAssetResponse(_message.Message):
    __slots__ = ("content_type", "file_name", "total_size_bytes", "data")
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    content_type: str
    file_name: str
    total_size_bytes: int
    data: bytes
    def __init__(self, content_type: _Optional[str] = ..., file_name: _Optional[str] = ..., total_size_bytes: _Optional[int] = ..., data: _Optional[bytes] = ...) -> None: ...

class DalleTier(_message.Message):
    __slots__ = ("name", "monthly_fee", "images_per_minute", "monthly_limit", "standard_cost", "hd_cost")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MONTHLY_FEE_FIELD_NUMBER: _ClassVar[int]
    IMAGES_PER_MINUTE_FIELD_NUMBER: _ClassVar[int]
    MONTHLY_LIMIT_FIELD_NUMBER: _ClassVar[int]
    STANDARD_COST_FIELD_NUMBER: _ClassVar[int]
    HD_COST_FIELD_NUMBER: _ClassVar[int]
    name: str
    monthly_fee: float
    images_per_minute: int
    monthly_limit: int
    standard_cost: float
    hd_cost: float
    def __init__(self, name: _Optional[str] = ..., monthly_fee: _Optional[float] = ..., images_per_minute: _Optional[int] = ..., monthly_limit: _Optional[int] = ..., standard_cost: _Optional[float] = ..., hd_cost: _Optional[float] = ...) -> None: ...

class MeshyPackage(_message.Message):
    __slots__ = ("name", "credits", "cost")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CREDITS_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    name: str
    credits: int
    cost: float
    def __init__(self, name: _Optional[str] = ..., credits: _Optional[int] = ..., cost: _Optional[float] = ...) -> None: ...

class OperationCredits(_message.Message):
    __slots__ = ("operation", "credits")
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    CREDITS_FIELD_NUMBER: _ClassVar[int]
    operation: str
    credits: int
    def __init__(self, operation: _Optional[str] = ..., credits: _Optional[int] = ...) -> None: ...

class TierPricing(_message.Message):
    __slots__ = ("tiers",)
    TIERS_FIELD_NUMBER: _ClassVar[int]
    tiers: _containers.RepeatedCompositeFieldContainer[DalleTier]
    def __init__(self, tiers: _Optional[_Iterable[_Union[DalleTier, _Mapping]]] = ...) -> None: ...

class CreditPricing(_message.Message):
    __slots__ = ("packages", "operations", "cost_per_credit")
    PACKAGES_FIELD_NUMBER: _ClassVar[int]
    OPERATIONS_FIELD_NUMBER: _ClassVar[int]
    COST_PER_CREDIT_FIELD_NUMBER: _ClassVar[int]
    packages: _containers.RepeatedCompositeFieldContainer[MeshyPackage]
    operations: _containers.RepeatedCompositeFieldContainer[OperationCredits]
    cost_per_credit: float
    def __init__(self, packages: _Optional[_Iterable[_Union[MeshyPackage, _Mapping]]] = ..., operations: _Optional[_Iterable[_Union[OperationCredits, _Mapping]]] = ..., cost_per_credit: _Optional[float] = ...) -> None: ...

class PerImagePricing(_message.Message):
    __slots__ = ("standard_cost", "hd_cost", "ultra_cost")
    STANDARD_COST_FIELD_NUMBER: _ClassVar[int]
    HD_COST_FIELD_NUMBER: _ClassVar[int]
    ULTRA_COST_FIELD_NUMBER: _ClassVar[int]
    standard_cost: float
    hd_cost: float
    ultra_cost: float
    def __init__(self, standard_cost: _Optional[float] = ..., hd_cost: _Optional[float] = ..., ultra_cost: _Optional[float] = ...) -> None: ...

class TokenPricing(_message.Message):
    __slots__ = ("input_cost_per_1k", "output_cost_per_1k")
    INPUT_COST_PER_1K_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_COST_PER_1K_FIELD_NUMBER: _ClassVar[int]
    input_cost_per_1k: float
    output_cost_per_1k: float
    def __init__(self, input_cost_per_1k: _Optional[float] = ..., output_cost_per_1k: _Optional[float] = ...) -> None: ...

class ProviderPricing(_message.Message):
    __slots__ = ("provider", "pricing_model", "quality", "last_updated", "tier_pricing", "credit_pricing", "per_image_pricing", "token_pricing")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    PRICING_MODEL_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    LAST_UPDATED_FIELD_NUMBER: _ClassVar[int]
    TIER_PRICING_FIELD_NUMBER: _ClassVar[int]
    CREDIT_PRICING_FIELD_NUMBER: _ClassVar[int]
    PER_IMAGE_PRICING_FIELD_NUMBER: _ClassVar[int]
    TOKEN_PRICING_FIELD_NUMBER: _ClassVar[int]
    provider: str
    pricing_model: PricingModel
    quality: str
    last_updated: _timestamp_pb2.Timestamp
    tier_pricing: TierPricing
    credit_pricing: CreditPricing
    per_image_pricing: PerImagePricing
    token_pricing: TokenPricing
    def __init__(self, provider: _Optional[str] = ..., pricing_model: _Optional[_Union[PricingModel, str]] = ..., quality: _Optional[str] = ..., last_updated: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., tier_pricing: _Optional[_Union[TierPricing, _Mapping]] = ..., credit_pricing: _Optional[_Union[CreditPricing, _Mapping]] = ..., per_image_pricing: _Optional[_Union[PerImagePricing, _Mapping]] = ..., token_pricing: _Optional[_Union[TokenPricing, _Mapping]] = ...) -> None: ...

class DateRange(_message.Message):
    __slots__ = ("start_date", "end_date")
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    start_date: str
    end_date: str
    def __init__(self, start_date: _Optional[str] = ..., end_date: _Optional[str] = ...) -> None: ...

class ProviderCost(_message.Message):
    __slots__ = ("provider", "cost")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    provider: str
    cost: float
    def __init__(self, provider: _Optional[str] = ..., cost: _Optional[float] = ...) -> None: ...

class UsageMetrics(_message.Message):
    __slots__ = ("total_images", "total_3d_models", "total_tokens", "total_credits")
    TOTAL_IMAGES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_3D_MODELS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_TOKENS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_CREDITS_FIELD_NUMBER: _ClassVar[int]
    total_images: int
    total_3d_models: int
    total_tokens: int
    total_credits: float
    def __init__(self, total_images: _Optional[int] = ..., total_3d_models: _Optional[int] = ..., total_tokens: _Optional[int] = ..., total_credits: _Optional[float] = ...) -> None: ...

class DailyCost(_message.Message):
    __slots__ = ("date", "daily_cost")
    DATE_FIELD_NUMBER: _ClassVar[int]
    DAILY_COST_FIELD_NUMBER: _ClassVar[int]
    date: str
    daily_cost: float
    def __init__(self, date: _Optional[str] = ..., daily_cost: _Optional[float] = ...) -> None: ...

class OperationCost(_message.Message):
    __slots__ = ("operation", "cost", "count")
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    operation: str
    cost: float
    count: int
    def __init__(self, operation: _Optional[str] = ..., cost: _Optional[float] = ..., count: _Optional[int] = ...) -> None: ...

class GetCurrentPricingRequest(_message.Message):
    __slots__ = ("provider", "category", "quality")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    provider: str
    category: str
    quality: str
    def __init__(self, provider: _Optional[str] = ..., category: _Optional[str] = ..., quality: _Optional[str] = ...) -> None: ...

class GetCurrentPricingResponse(_message.Message):
    __slots__ = ("pricing", "effective_date", "currency")
    PRICING_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_DATE_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    pricing: ProviderPricing
    effective_date: _timestamp_pb2.Timestamp
    currency: str
    def __init__(self, pricing: _Optional[_Union[ProviderPricing, _Mapping]] = ..., effective_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., currency: _Optional[str] = ...) -> None: ...

class GetPricingAnalyticsRequest(_message.Message):
    __slots__ = ("start_date", "end_date", "provider")
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    start_date: str
    end_date: str
    provider: str
    def __init__(self, start_date: _Optional[str] = ..., end_date: _Optional[str] = ..., provider: _Optional[str] = ...) -> None: ...

class GetPricingAnalyticsResponse(_message.Message):
    __slots__ = ("period", "total_cost", "cost_breakdown", "usage_metrics", "cost_trends", "top_cost_operations", "provider_cost")
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COST_FIELD_NUMBER: _ClassVar[int]
    COST_BREAKDOWN_FIELD_NUMBER: _ClassVar[int]
    USAGE_METRICS_FIELD_NUMBER: _ClassVar[int]
    COST_TRENDS_FIELD_NUMBER: _ClassVar[int]
    TOP_COST_OPERATIONS_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_COST_FIELD_NUMBER: _ClassVar[int]
    period: DateRange
    total_cost: float
    cost_breakdown: _containers.RepeatedCompositeFieldContainer[ProviderCost]
    usage_metrics: UsageMetrics
    cost_trends: _containers.RepeatedCompositeFieldContainer[DailyCost]
    top_cost_operations: _containers.RepeatedCompositeFieldContainer[OperationCost]
    provider_cost: float
    def __init__(self, period: _Optional[_Union[DateRange, _Mapping]] = ..., total_cost: _Optional[float] = ..., cost_breakdown: _Optional[_Iterable[_Union[ProviderCost, _Mapping]]] = ..., usage_metrics: _Optional[_Union[UsageMetrics, _Mapping]] = ..., cost_trends: _Optional[_Iterable[_Union[DailyCost, _Mapping]]] = ..., top_cost_operations: _Optional[_Iterable[_Union[OperationCost, _Mapping]]] = ..., provider_cost: _Optional[float] = ...) -> None: ...

class UpdatePricingRequest(_message.Message):
    __slots__ = ("provider",)
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    provider: str
    def __init__(self, provider: _Optional[str] = ...) -> None: ...

class UpdatePricingResponse(_message.Message):
    __slots__ = ("provider", "status", "update_time", "estimated_completion")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_COMPLETION_FIELD_NUMBER: _ClassVar[int]
    provider: str
    status: str
    update_time: _timestamp_pb2.Timestamp
    estimated_completion: _timestamp_pb2.Timestamp
    def __init__(self, provider: _Optional[str] = ..., status: _Optional[str] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., estimated_completion: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PricingProviderSummary(_message.Message):
    __slots__ = ("name", "pricing_model", "status", "last_updated", "capabilities", "tier_count", "operations")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PRICING_MODEL_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LAST_UPDATED_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    TIER_COUNT_FIELD_NUMBER: _ClassVar[int]
    OPERATIONS_FIELD_NUMBER: _ClassVar[int]
    name: str
    pricing_model: PricingModel
    status: str
    last_updated: _timestamp_pb2.Timestamp
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    tier_count: int
    operations: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., pricing_model: _Optional[_Union[PricingModel, str]] = ..., status: _Optional[str] = ..., last_updated: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., capabilities: _Optional[_Iterable[str]] = ..., tier_count: _Optional[int] = ..., operations: _Optional[_Iterable[str]] = ...) -> None: ...

class ListPricingProvidersRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListPricingProvidersResponse(_message.Message):
    __slots__ = ("providers", "supported_models")
    PROVIDERS_FIELD_NUMBER: _ClassVar[int]
    SUPPORTED_MODELS_FIELD_NUMBER: _ClassVar[int]
    providers: _containers.RepeatedCompositeFieldContainer[PricingProviderSummary]
    supported_models: _containers.RepeatedScalarFieldContainer[PricingModel]
    def __init__(self, providers: _Optional[_Iterable[_Union[PricingProviderSummary, _Mapping]]] = ..., supported_models: _Optional[_Iterable[_Union[PricingModel, str]]] = ...) -> None: ...

class EstimateCostRequest(_message.Message):
    __slots__ = ("provider", "operation", "quantity", "quality", "estimated_tokens")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_TOKENS_FIELD_NUMBER: _ClassVar[int]
    provider: str
    operation: str
    quantity: int
    quality: str
    estimated_tokens: int
    def __init__(self, provider: _Optional[str] = ..., operation: _Optional[str] = ..., quantity: _Optional[int] = ..., quality: _Optional[str] = ..., estimated_tokens: _Optional[int] = ...) -> None: ...

class EstimateCostResponse(_message.Message):
    __slots__ = ("provider", "operation", "quantity", "pricing_model", "currency", "estimate_time", "cost_per_unit", "total_cost", "tier_fee", "credits_per_operation", "total_credits", "estimated_cost", "input_cost", "output_cost", "tokens_estimated")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    PRICING_MODEL_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    ESTIMATE_TIME_FIELD_NUMBER: _ClassVar[int]
    COST_PER_UNIT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COST_FIELD_NUMBER: _ClassVar[int]
    TIER_FEE_FIELD_NUMBER: _ClassVar[int]
    CREDITS_PER_OPERATION_FIELD_NUMBER: _ClassVar[int]
    TOTAL_CREDITS_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_COST_FIELD_NUMBER: _ClassVar[int]
    INPUT_COST_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_COST_FIELD_NUMBER: _ClassVar[int]
    TOKENS_ESTIMATED_FIELD_NUMBER: _ClassVar[int]
    provider: str
    operation: str
    quantity: int
    pricing_model: PricingModel
    currency: str
    estimate_time: _timestamp_pb2.Timestamp
    cost_per_unit: float
    total_cost: float
    tier_fee: float
    credits_per_operation: int
    total_credits: int
    estimated_cost: float
    input_cost: float
    output_cost: float
    tokens_estimated: int
    def __init__(self, provider: _Optional[str] = ..., operation: _Optional[str] = ..., quantity: _Optional[int] = ..., pricing_model: _Optional[_Union[PricingModel, str]] = ..., currency: _Optional[str] = ..., estimate_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cost_per_unit: _Optional[float] = ..., total_cost: _Optional[float] = ..., tier_fee: _Optional[float] = ..., credits_per_operation: _Optional[int] = ..., total_credits: _Optional[int] = ..., estimated_cost: _Optional[float] = ..., input_cost: _Optional[float] = ..., output_cost: _Optional[float] = ..., tokens_estimated: _Optional[int] = ...) -> None: ...

class GetDalleTiersRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetDalleTiersResponse(_message.Message):
    __slots__ = ("provider", "pricing_model", "tiers", "currency", "billing_cycle")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    PRICING_MODEL_FIELD_NUMBER: _ClassVar[int]
    TIERS_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    BILLING_CYCLE_FIELD_NUMBER: _ClassVar[int]
    provider: str
    pricing_model: PricingModel
    tiers: _containers.RepeatedCompositeFieldContainer[DalleTier]
    currency: str
    billing_cycle: str
    def __init__(self, provider: _Optional[str] = ..., pricing_model: _Optional[_Union[PricingModel, str]] = ..., tiers: _Optional[_Iterable[_Union[DalleTier, _Mapping]]] = ..., currency: _Optional[str] = ..., billing_cycle: _Optional[str] = ...) -> None: ...

class GetMeshyPackagesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetMeshyPackagesResponse(_message.Message):
    __slots__ = ("provider", "pricing_model", "packages", "operations", "currency")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    PRICING_MODEL_FIELD_NUMBER: _ClassVar[int]
    PACKAGES_FIELD_NUMBER: _ClassVar[int]
    OPERATIONS_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    provider: str
    pricing_model: PricingModel
    packages: _containers.RepeatedCompositeFieldContainer[MeshyPackage]
    operations: _containers.RepeatedCompositeFieldContainer[OperationCredits]
    currency: str
    def __init__(self, provider: _Optional[str] = ..., pricing_model: _Optional[_Union[PricingModel, str]] = ..., packages: _Optional[_Iterable[_Union[MeshyPackage, _Mapping]]] = ..., operations: _Optional[_Iterable[_Union[OperationCredits, _Mapping]]] = ..., currency: _Optional[str] = ...) -> None: ...

class ProviderCostComparison(_message.Message):
    __slots__ = ("provider", "pricing_model", "cost_per_unit", "cost_per_1k_tokens", "total_cost")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    PRICING_MODEL_FIELD_NUMBER: _ClassVar[int]
    COST_PER_UNIT_FIELD_NUMBER: _ClassVar[int]
    COST_PER_1K_TOKENS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COST_FIELD_NUMBER: _ClassVar[int]
    provider: str
    pricing_model: PricingModel
    cost_per_unit: float
    cost_per_1k_tokens: float
    total_cost: float
    def __init__(self, provider: _Optional[str] = ..., pricing_model: _Optional[_Union[PricingModel, str]] = ..., cost_per_unit: _Optional[float] = ..., cost_per_1k_tokens: _Optional[float] = ..., total_cost: _Optional[float] = ...) -> None: ...

class CompareProvidersRequest(_message.Message):
    __slots__ = ("operation", "quantity", "quality")
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    operation: str
    quantity: int
    quality: str
    def __init__(self, operation: _Optional[str] = ..., quantity: _Optional[int] = ..., quality: _Optional[str] = ...) -> None: ...

class CompareProvidersResponse(_message.Message):
    __slots__ = ("operation", "quantity", "quality", "providers", "cheapest_provider", "comparison_time")
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    PROVIDERS_FIELD_NUMBER: _ClassVar[int]
    CHEAPEST_PROVIDER_FIELD_NUMBER: _ClassVar[int]
    COMPARISON_TIME_FIELD_NUMBER: _ClassVar[int]
    operation: str
    quantity: int
    quality: str
    providers: _containers.RepeatedCompositeFieldContainer[ProviderCostComparison]
    cheapest_provider: str
    comparison_time: _timestamp_pb2.Timestamp
    def __init__(self, operation: _Optional[str] = ..., quantity: _Optional[int] = ..., quality: _Optional[str] = ..., providers: _Optional[_Iterable[_Union[ProviderCostComparison, _Mapping]]] = ..., cheapest_provider: _Optional[str] = ..., comparison_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RecordUsageRequest(_message.Message):
    __slots__ = ("provider", "model", "operation", "input_tokens", "output_tokens", "images", "models_3d", "credits", "cost", "latency_ms", "user_id", "conversation_id", "request_id", "session_id", "quality", "error_code", "occurred_at")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    MODELS_3D_FIELD_NUMBER: _ClassVar[int]
    CREDITS_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    provider: str
    model: str
    operation: str
    input_tokens: int
    output_tokens: int
    images: int
    models_3d: int
    credits: float
    cost: float
    latency_ms: int
    user_id: str
    conversation_id: str
    request_id: str
    session_id: str
    quality: str
    error_code: str
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, provider: _Optional[str] = ..., model: _Optional[str] = ..., operation: _Optional[str] = ..., input_tokens: _Optional[int] = ..., output_tokens: _Optional[int] = ..., images: _Optional[int] = ..., models_3d: _Optional[int] = ..., credits: _Optional[float] = ..., cost: _Optional[float] = ..., latency_ms: _Optional[int] = ..., user_id: _Optional[str] = ..., conversation_id: _Optional[str] = ..., request_id: _Optional[str] = ..., session_id: _Optional[str] = ..., quality: _Optional[str] = ..., error_code: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RecordUsageResponse(_message.Message):
    __slots__ = ("usage_id",)
    USAGE_ID_FIELD_NUMBER: _ClassVar[int]
    usage_id: str
    def __init__(self, usage_id: _Optional[str] = ...) -> None: ...

class LogUsageRequest(_message.Message):
    __slots__ = ("provider", "operation", "cost", "tokens", "images", "credits", "quality", "model", "request_id")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    CREDITS_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    provider: str
    operation: str
    cost: float
    tokens: int
    images: int
    credits: float
    quality: str
    model: str
    request_id: str
    def __init__(self, provider: _Optional[str] = ..., operation: _Optional[str] = ..., cost: _Optional[float] = ..., tokens: _Optional[int] = ..., images: _Optional[int] = ..., credits: _Optional[float] = ..., quality: _Optional[str] = ..., model: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class LogUsageResponse(_message.Message):
    __slots__ = ("log_id", "cost_logged", "timestamp")
    LOG_ID_FIELD_NUMBER: _ClassVar[int]
    COST_LOGGED_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    log_id: str
    cost_logged: float
    timestamp: _timestamp_pb2.Timestamp
    def __init__(self, log_id: _Optional[str] = ..., cost_logged: _Optional[float] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class BillingPeriod(_message.Message):
    __slots__ = ("start", "end", "days_remaining")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    DAYS_REMAINING_FIELD_NUMBER: _ClassVar[int]
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    days_remaining: int
    def __init__(self, start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., days_remaining: _Optional[int] = ...) -> None: ...

class ProviderUsage(_message.Message):
    __slots__ = ("provider", "cost", "requests", "images", "tokens", "models")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    provider: str
    cost: float
    requests: int
    images: int
    tokens: int
    models: int
    def __init__(self, provider: _Optional[str] = ..., cost: _Optional[float] = ..., requests: _Optional[int] = ..., images: _Optional[int] = ..., tokens: _Optional[int] = ..., models: _Optional[int] = ...) -> None: ...

class GetCurrentUsageRequest(_message.Message):
    __slots__ = ("provider", "session_id")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    provider: str
    session_id: str
    def __init__(self, provider: _Optional[str] = ..., session_id: _Optional[str] = ...) -> None: ...

class GetCurrentUsageResponse(_message.Message):
    __slots__ = ("total_cost", "total_requests", "total_tokens", "total_images", "total_3d_models", "providers", "billing_period", "as_of", "budgets")
    TOTAL_COST_FIELD_NUMBER: _ClassVar[int]
    TOTAL_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_TOKENS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_IMAGES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_3D_MODELS_FIELD_NUMBER: _ClassVar[int]
    PROVIDERS_FIELD_NUMBER: _ClassVar[int]
    BILLING_PERIOD_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    BUDGETS_FIELD_NUMBER: _ClassVar[int]
    total_cost: float
    total_requests: int
    total_tokens: int
    total_images: int
    total_3d_models: int
    providers: _containers.RepeatedCompositeFieldContainer[ProviderUsage]
    billing_period: BillingPeriod
    as_of: _timestamp_pb2.Timestamp
    budgets: _containers.RepeatedCompositeFieldContainer[_common_pb2.BudgetLimit]
    def __init__(self, total_cost: _Optional[float] = ..., total_requests: _Optional[int] = ..., total_tokens: _Optional[int] = ..., total_images: _Optional[int] = ..., total_3d_models: _Optional[int] = ..., providers: _Optional[_Iterable[_Union[ProviderUsage, _Mapping]]] = ..., billing_period: _Optional[_Union[BillingPeriod, _Mapping]] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., budgets: _Optional[_Iterable[_Union[_common_pb2.BudgetLimit, _Mapping]]] = ...) -> None: ...

class DailyUsage(_message.Message):
    __slots__ = ("date", "total_cost", "total_requests", "total_tokens", "total_images", "breakdown")
    DATE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COST_FIELD_NUMBER: _ClassVar[int]
    TOTAL_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_TOKENS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_IMAGES_FIELD_NUMBER: _ClassVar[int]
    BREAKDOWN_FIELD_NUMBER: _ClassVar[int]
    date: str
    total_cost: float
    total_requests: int
    total_tokens: int
    total_images: int
    breakdown: _containers.RepeatedCompositeFieldContainer[ProviderUsage]
    def __init__(self, date: _Optional[str] = ..., total_cost: _Optional[float] = ..., total_requests: _Optional[int] = ..., total_tokens: _Optional[int] = ..., total_images: _Optional[int] = ..., breakdown: _Optional[_Iterable[_Union[ProviderUsage, _Mapping]]] = ...) -> None: ...

class UsageHistorySummary(_message.Message):
    __slots__ = ("total_cost", "total_requests", "average_daily_cost", "peak_cost_day")
    TOTAL_COST_FIELD_NUMBER: _ClassVar[int]
    TOTAL_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_DAILY_COST_FIELD_NUMBER: _ClassVar[int]
    PEAK_COST_DAY_FIELD_NUMBER: _ClassVar[int]
    total_cost: float
    total_requests: int
    average_daily_cost: float
    peak_cost_day: str
    def __init__(self, total_cost: _Optional[float] = ..., total_requests: _Optional[int] = ..., average_daily_cost: _Optional[float] = ..., peak_cost_day: _Optional[str] = ...) -> None: ...

class GetUsageHistoryRequest(_message.Message):
    __slots__ = ("days", "provider")
    DAYS_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    days: int
    provider: str
    def __init__(self, days: _Optional[int] = ..., provider: _Optional[str] = ...) -> None: ...

class GetUsageHistoryResponse(_message.Message):
    __slots__ = ("period", "days", "usage_history", "summary")
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    DAYS_FIELD_NUMBER: _ClassVar[int]
    USAGE_HISTORY_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    period: DateRange
    days: int
    usage_history: _containers.RepeatedCompositeFieldContainer[DailyUsage]
    summary: UsageHistorySummary
    def __init__(self, period: _Optional[_Union[DateRange, _Mapping]] = ..., days: _Optional[int] = ..., usage_history: _Optional[_Iterable[_Union[DailyUsage, _Mapping]]] = ..., summary: _Optional[_Union[UsageHistorySummary, _Mapping]] = ...) -> None: ...

class TierLimit(_message.Message):
    __slots__ = ("current_tier", "monthly_limit", "used_this_month", "remaining", "rate_limit", "monthly_fee", "overage_cost")
    CURRENT_TIER_FIELD_NUMBER: _ClassVar[int]
    MONTHLY_LIMIT_FIELD_NUMBER: _ClassVar[int]
    USED_THIS_MONTH_FIELD_NUMBER: _ClassVar[int]
    REMAINING_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMIT_FIELD_NUMBER: _ClassVar[int]
    MONTHLY_FEE_FIELD_NUMBER: _ClassVar[int]
    OVERAGE_COST_FIELD_NUMBER: _ClassVar[int]
    current_tier: str
    monthly_limit: int
    used_this_month: int
    remaining: int
    rate_limit: int
    monthly_fee: float
    overage_cost: float
    def __init__(self, current_tier: _Optional[str] = ..., monthly_limit: _Optional[int] = ..., used_this_month: _Optional[int] = ..., remaining: _Optional[int] = ..., rate_limit: _Optional[int] = ..., monthly_fee: _Optional[float] = ..., overage_cost: _Optional[float] = ...) -> None: ...

class CreditLimit(_message.Message):
    __slots__ = ("current_package", "credit_limit", "credits_used", "credits_remaining", "auto_renewal", "package_cost")
    CURRENT_PACKAGE_FIELD_NUMBER: _ClassVar[int]
    CREDIT_LIMIT_FIELD_NUMBER: _ClassVar[int]
    CREDITS_USED_FIELD_NUMBER: _ClassVar[int]
    CREDITS_REMAINING_FIELD_NUMBER: _ClassVar[int]
    AUTO_RENEWAL_FIELD_NUMBER: _ClassVar[int]
    PACKAGE_COST_FIELD_NUMBER: _ClassVar[int]
    current_package: str
    credit_limit: int
    credits_used: int
    credits_remaining: int
    auto_renewal: bool
    package_cost: float
    def __init__(self, current_package: _Optional[str] = ..., credit_limit: _Optional[int] = ..., credits_used: _Optional[int] = ..., credits_remaining: _Optional[int] = ..., auto_renewal: bool = ..., package_cost: _Optional[float] = ...) -> None: ...

class DailyImageLimit(_message.Message):
    __slots__ = ("daily_limit", "used_today", "remaining_today", "cost_per_image")
    DAILY_LIMIT_FIELD_NUMBER: _ClassVar[int]
    USED_TODAY_FIELD_NUMBER: _ClassVar[int]
    REMAINING_TODAY_FIELD_NUMBER: _ClassVar[int]
    COST_PER_IMAGE_FIELD_NUMBER: _ClassVar[int]
    daily_limit: int
    used_today: int
    remaining_today: int
    cost_per_image: float
    def __init__(self, daily_limit: _Optional[int] = ..., used_today: _Optional[int] = ..., remaining_today: _Optional[int] = ..., cost_per_image: _Optional[float] = ...) -> None: ...

class TokenLimit(_message.Message):
    __slots__ = ("token_limit", "tokens_used", "tokens_remaining", "cost_per_1k_tokens")
    TOKEN_LIMIT_FIELD_NUMBER: _ClassVar[int]
    TOKENS_USED_FIELD_NUMBER: _ClassVar[int]
    TOKENS_REMAINING_FIELD_NUMBER: _ClassVar[int]
    COST_PER_1K_TOKENS_FIELD_NUMBER: _ClassVar[int]
    token_limit: int
    tokens_used: int
    tokens_remaining: int
    cost_per_1k_tokens: float
    def __init__(self, token_limit: _Optional[int] = ..., tokens_used: _Optional[int] = ..., tokens_remaining: _Optional[int] = ..., cost_per_1k_tokens: _Optional[float] = ...) -> None: ...

class ProviderLimit(_message.Message):
    __slots__ = ("provider", "tier", "credit", "daily_images", "tokens")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    CREDIT_FIELD_NUMBER: _ClassVar[int]
    DAILY_IMAGES_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    provider: str
    tier: TierLimit
    credit: CreditLimit
    daily_images: DailyImageLimit
    tokens: TokenLimit
    def __init__(self, provider: _Optional[str] = ..., tier: _Optional[_Union[TierLimit, _Mapping]] = ..., credit: _Optional[_Union[CreditLimit, _Mapping]] = ..., daily_images: _Optional[_Union[DailyImageLimit, _Mapping]] = ..., tokens: _Optional[_Union[TokenLimit, _Mapping]] = ...) -> None: ...

class GetUsageLimitsRequest(_message.Message):
    __slots__ = ("provider", "session_id")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    provider: str
    session_id: str
    def __init__(self, provider: _Optional[str] = ..., session_id: _Optional[str] = ...) -> None: ...

class GetUsageLimitsResponse(_message.Message):
    __slots__ = ("billing_period", "limits", "warnings", "budgets")
    BILLING_PERIOD_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    BUDGETS_FIELD_NUMBER: _ClassVar[int]
    billing_period: BillingPeriod
    limits: _containers.RepeatedCompositeFieldContainer[ProviderLimit]
    warnings: _containers.RepeatedScalarFieldContainer[str]
    budgets: _containers.RepeatedCompositeFieldContainer[_common_pb2.BudgetLimit]
    def __init__(self, billing_period: _Optional[_Union[BillingPeriod, _Mapping]] = ..., limits: _Optional[_Iterable[_Union[ProviderLimit, _Mapping]]] = ..., warnings: _Optional[_Iterable[str]] = ..., budgets: _Optional[_Iterable[_Union[_common_pb2.BudgetLimit, _Mapping]]] = ...) -> None: ...

class BillingCharges(_message.Message):
    __slots__ = ("subscription_fees", "usage_charges", "overage_charges", "total")
    SUBSCRIPTION_FEES_FIELD_NUMBER: _ClassVar[int]
    USAGE_CHARGES_FIELD_NUMBER: _ClassVar[int]
    OVERAGE_CHARGES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    subscription_fees: float
    usage_charges: float
    overage_charges: float
    total: float
    def __init__(self, subscription_fees: _Optional[float] = ..., usage_charges: _Optional[float] = ..., overage_charges: _Optional[float] = ..., total: _Optional[float] = ...) -> None: ...

class PaymentMethod(_message.Message):
    __slots__ = ("kind", "last_four", "status")
    KIND_FIELD_NUMBER: _ClassVar[int]
    LAST_FOUR_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    kind: str
    last_four: str
    status: str
    def __init__(self, kind: _Optional[str] = ..., last_four: _Optional[str] = ..., status: _Optional[str] = ...) -> None: ...

class BillingAlert(_message.Message):
    __slots__ = ("kind", "message", "severity")
    KIND_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    kind: str
    message: str
    severity: str
    def __init__(self, kind: _Optional[str] = ..., message: _Optional[str] = ..., severity: _Optional[str] = ...) -> None: ...

class GetCurrentBillingRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetCurrentBillingResponse(_message.Message):
    __slots__ = ("billing_period", "current_charges", "payment_method", "next_billing_date", "auto_payment", "estimated_next_bill", "billing_alerts")
    BILLING_PERIOD_FIELD_NUMBER: _ClassVar[int]
    CURRENT_CHARGES_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_FIELD_NUMBER: _ClassVar[int]
    NEXT_BILLING_DATE_FIELD_NUMBER: _ClassVar[int]
    AUTO_PAYMENT_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_NEXT_BILL_FIELD_NUMBER: _ClassVar[int]
    BILLING_ALERTS_FIELD_NUMBER: _ClassVar[int]
    billing_period: BillingPeriod
    current_charges: BillingCharges
    payment_method: PaymentMethod
    next_billing_date: str
    auto_payment: bool
    estimated_next_bill: float
    billing_alerts: _containers.RepeatedCompositeFieldContainer[BillingAlert]
    def __init__(self, billing_period: _Optional[_Union[BillingPeriod, _Mapping]] = ..., current_charges: _Optional[_Union[BillingCharges, _Mapping]] = ..., payment_method: _Optional[_Union[PaymentMethod, _Mapping]] = ..., next_billing_date: _Optional[str] = ..., auto_payment: bool = ..., estimated_next_bill: _Optional[float] = ..., billing_alerts: _Optional[_Iterable[_Union[BillingAlert, _Mapping]]] = ...) -> None: ...

class MonthlySummary(_message.Message):
    __slots__ = ("total_cost", "total_requests", "total_tokens", "total_images", "total_3d_models", "unique_operations")
    TOTAL_COST_FIELD_NUMBER: _ClassVar[int]
    TOTAL_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_TOKENS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_IMAGES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_3D_MODELS_FIELD_NUMBER: _ClassVar[int]
    UNIQUE_OPERATIONS_FIELD_NUMBER: _ClassVar[int]
    total_cost: float
    total_requests: int
    total_tokens: int
    total_images: int
    total_3d_models: int
    unique_operations: int
    def __init__(self, total_cost: _Optional[float] = ..., total_requests: _Optional[int] = ..., total_tokens: _Optional[int] = ..., total_images: _Optional[int] = ..., total_3d_models: _Optional[int] = ..., unique_operations: _Optional[int] = ...) -> None: ...

class CostCategories(_message.Message):
    __slots__ = ("subscription_fees", "per_use_charges", "overage_charges")
    SUBSCRIPTION_FEES_FIELD_NUMBER: _ClassVar[int]
    PER_USE_CHARGES_FIELD_NUMBER: _ClassVar[int]
    OVERAGE_CHARGES_FIELD_NUMBER: _ClassVar[int]
    subscription_fees: float
    per_use_charges: float
    overage_charges: float
    def __init__(self, subscription_fees: _Optional[float] = ..., per_use_charges: _Optional[float] = ..., overage_charges: _Optional[float] = ...) -> None: ...

class CostSuggestion(_message.Message):
    __slots__ = ("suggestion", "potential_savings", "reasoning")
    SUGGESTION_FIELD_NUMBER: _ClassVar[int]
    POTENTIAL_SAVINGS_FIELD_NUMBER: _ClassVar[int]
    REASONING_FIELD_NUMBER: _ClassVar[int]
    suggestion: str
    potential_savings: float
    reasoning: str
    def __init__(self, suggestion: _Optional[str] = ..., potential_savings: _Optional[float] = ..., reasoning: _Optional[str] = ...) -> None: ...

class GetMonthlyReportRequest(_message.Message):
    __slots__ = ("month",)
    MONTH_FIELD_NUMBER: _ClassVar[int]
    month: str
    def __init__(self, month: _Optional[str] = ...) -> None: ...

class GetMonthlyReportResponse(_message.Message):
    __slots__ = ("report_period", "generated_at", "summary", "provider_breakdown", "cost_categories", "top_operations", "cost_optimization_suggestions")
    REPORT_PERIOD_FIELD_NUMBER: _ClassVar[int]
    GENERATED_AT_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_BREAKDOWN_FIELD_NUMBER: _ClassVar[int]
    COST_CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    TOP_OPERATIONS_FIELD_NUMBER: _ClassVar[int]
    COST_OPTIMIZATION_SUGGESTIONS_FIELD_NUMBER: _ClassVar[int]
    report_period: str
    generated_at: _timestamp_pb2.Timestamp
    summary: MonthlySummary
    provider_breakdown: _containers.RepeatedCompositeFieldContainer[ProviderUsage]
    cost_categories: CostCategories
    top_operations: _containers.RepeatedCompositeFieldContainer[OperationCost]
    cost_optimization_suggestions: _containers.RepeatedCompositeFieldContainer[CostSuggestion]
    def __init__(self, report_period: _Optional[str] = ..., generated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., summary: _Optional[_Union[MonthlySummary, _Mapping]] = ..., provider_breakdown: _Optional[_Iterable[_Union[ProviderUsage, _Mapping]]] = ..., cost_categories: _Optional[_Union[CostCategories, _Mapping]] = ..., top_operations: _Optional[_Iterable[_Union[OperationCost, _Mapping]]] = ..., cost_optimization_suggestions: _Optional[_Iterable[_Union[CostSuggestion, _Mapping]]] = ...) -> None: ...
