"""The ``ts.nn`` layers."""
from .module import Buffer, Module, Parameter
from .linear import Bilinear, Identity, Linear
from .conv import Conv1d, Conv2d
from .pooling import (AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool1d,
                      AvgPool2d, MaxPool1d, MaxPool2d)
from .normalization import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm
from .embedding import Embedding
from .activation import (ELU, GELU, Flatten, LeakyReLU, LogSoftmax, ReLU, SiLU, Sigmoid, Softmax,
                         Softplus, Tanh, Unflatten)
from .dropout import Dropout
from .container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .transformer import MultiheadAttention, TransformerEncoder, TransformerEncoderLayer
from .rnn import GRU, LSTM
from .loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, KLDivLoss, L1Loss,
                   MSELoss, NLLLoss, SmoothL1Loss)

__all__ = [
    "Module", "Parameter", "Buffer",
    "Identity", "Linear", "Bilinear", "Conv1d", "Conv2d",
    "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d",
    "AdaptiveMaxPool2d",
    "BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm", "Embedding",
    "ReLU", "LeakyReLU", "ELU", "GELU", "SiLU", "Tanh", "Sigmoid", "Softplus", "Softmax",
    "LogSoftmax", "Flatten", "Unflatten", "Dropout",
    "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict",
    "MultiheadAttention", "TransformerEncoderLayer", "TransformerEncoder", "LSTM", "GRU",
    "MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "NLLLoss", "CrossEntropyLoss", "BCELoss",
    "BCEWithLogitsLoss", "KLDivLoss",
]
