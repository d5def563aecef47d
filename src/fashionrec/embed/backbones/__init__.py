"""Built-in backbones; importing this package registers them."""

from fashionrec.embed.backbones import efficientnet_lite, mobilenet, resnet, tiny, vgg

__all__ = ["efficientnet_lite", "mobilenet", "resnet", "tiny", "vgg"]
