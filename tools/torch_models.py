"""PyTorch twins of gradleak's model zoo (src/models/zoo.ts), with the same state_dict names, for the
capture and benchmark tools. Not part of gradleak's install; run with /usr/bin/python3 (python3-torch).

  resnet20(K, width=16)   He et al.'s CIFAR ResNet, torchvision-style BasicBlocks, option-B shortcut
                          (`downsample.0/1` = conv1x1 + BN) where the shape changes = `--model resnet20 --width W`
  resnet8(K, width=16)    the same family with 1 BasicBlock per stage (depth 8) = `--model resnet8 --width W`
  resnet14(K, width=16)   2 BasicBlocks per stage (depth 14)                    = `--model resnet14 --width W`
  resnet_mini(K)          resnet20(K, width=8)                                  = `--model resnet20 --width 8`
  resnet18(K, stem)       torchvision.models.resnet18(num_classes=K); stem 'cifar': 3x3/1 conv1, no max-pool
                          = `--model resnet18 [--stem cifar]`
  lenet(K, in_shape)      the DLG paper's LeNet: conv1..conv3 5x5, 12 channels, stride 2, 2, 1, padding 2,
                          sigmoid after each, then `fc`                          = `--model lenet`
  mlp(K, in_shape, width) flatten, fc1, ReLU, fc2, ReLU, fc3 (width 200)        = `--model mlp [--width W]`
"""
import torch
import torch.nn as nn
import torchvision
from torchvision.models.resnet import BasicBlock


class ResNet20(nn.Module):
    def __init__(self, num_classes, width=16, blocks=3):
        super().__init__()
        w = width
        self.conv1 = nn.Conv2d(3, w, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(w)  # eps 1e-5 (PyTorch's default)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._stage(w, w, 1, blocks)
        self.layer2 = self._stage(w, 2 * w, 2, blocks)
        self.layer3 = self._stage(2 * w, 4 * w, 2, blocks)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(4 * w, num_classes)

    @staticmethod
    def _stage(cin, cout, stride, blocks=3):
        layers = []
        for i in range(blocks):
            s, c = (stride, cin) if i == 0 else (1, cout)
            down = None
            if s != 1 or c != cout:
                down = nn.Sequential(nn.Conv2d(c, cout, 1, stride=s, bias=False), nn.BatchNorm2d(cout))
            layers.append(BasicBlock(c, cout, stride=s, downsample=down))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(self.avgpool(x).flatten(1))


def resnet20(num_classes, width=16):
    return ResNet20(num_classes, width)


def resnet8(num_classes, width=16):
    return ResNet20(num_classes, width, blocks=1)


def resnet14(num_classes, width=16):
    return ResNet20(num_classes, width, blocks=2)


def resnet_mini(num_classes):
    return ResNet20(num_classes, width=8)


def resnet18(num_classes, stem='imagenet'):
    m = torchvision.models.resnet18(num_classes=num_classes)
    if stem == 'cifar':
        m.conv1 = nn.Conv2d(3, 64, 3, stride=1, padding=1, bias=False)
        m.maxpool = nn.Identity()
    elif stem != 'imagenet':
        raise ValueError(f'stem must be imagenet or cifar, got {stem!r}')
    return m


class LeNet(nn.Module):
    def __init__(self, num_classes, in_shape=(1, 28, 28)):
        super().__init__()
        C, H, W = in_shape
        side = lambda n: ((n + 4 - 5) // 2 + 1 + 4 - 5) // 2 + 1  # two 5x5 convs of stride 2, padding 2
        self.conv1 = nn.Conv2d(C, 12, 5, stride=2, padding=2)
        self.conv2 = nn.Conv2d(12, 12, 5, stride=2, padding=2)
        self.conv3 = nn.Conv2d(12, 12, 5, stride=1, padding=2)
        self.fc = nn.Linear(12 * side(H) * side(W), num_classes)

    def forward(self, x):
        x = torch.sigmoid(self.conv1(x))
        x = torch.sigmoid(self.conv2(x))
        x = torch.sigmoid(self.conv3(x))
        return self.fc(x.flatten(1))


class MLP(nn.Module):
    def __init__(self, num_classes, in_shape=(1, 28, 28), width=200):
        super().__init__()
        C, H, W = in_shape
        self.fc1 = nn.Linear(C * H * W, width)
        self.fc2 = nn.Linear(width, width)
        self.fc3 = nn.Linear(width, num_classes)

    def forward(self, x):
        x = torch.relu(self.fc1(x.flatten(1)))
        x = torch.relu(self.fc2(x))
        return self.fc3(x)


def lenet(num_classes, in_shape=(1, 28, 28)):
    return LeNet(num_classes, in_shape)


def mlp(num_classes, in_shape=(1, 28, 28), width=200):
    return MLP(num_classes, in_shape, width)


if __name__ == '__main__':  # print the state_dict names, to compare with zoo.ts
    import sys
    m = (resnet18(10, 'cifar') if 'resnet18' in sys.argv else lenet(10) if 'lenet' in sys.argv else mlp(10) if 'mlp' in sys.argv
         else resnet_mini(10))
    for k, v in m.state_dict().items():
        print(k, list(v.shape))
    print(sum(p.numel() for p in m.parameters()), 'parameters')
