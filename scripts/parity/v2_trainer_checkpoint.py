"""
Loads a fold trained by nnunet-ts's v2 trainer with nnunetv2's own code: torch.load of checkpoint_final.pth,
a strict load_state_dict of 'network_weights' into the network nnunetv2 builds from plans.json (its input
channels from determine_num_input_channels: + one per foreground label for a cascade stage), the SGD
optimizer's load_state_dict of 'optimizer_state', nnUNetPredictor.initialize_from_trained_model_folder, and the
network's logits for MODEL_DIR/../check/input.npy written to logits_torch.npy.
Usage: /usr/bin/python3 v2_trainer_checkpoint.py MODEL_DIR CHECK_DIR (run by v2-trainer-checkpoint.ts).
With torch 1.13 and no blosc2/cc3d/seaborn (data loading and plotting only), those modules are stubbed.
"""
import sys, json, types
from unittest import mock

blosc2 = mock.MagicMock()
blosc2.ndarray = types.SimpleNamespace(NDArray=object)
blosc2.NDArray = object
for name, module in (('blosc2', blosc2), ('cc3d', mock.MagicMock()), ('seaborn', mock.MagicMock())):
    try:
        __import__(name)
    except ImportError:
        sys.modules[name] = module
import torch
try:
    import torch._dynamo  # noqa: F401
except ImportError:
    dynamo = types.ModuleType('torch._dynamo')
    dynamo.OptimizedModule = type('OptimizedModule', (), {})
    sys.modules['torch._dynamo'] = dynamo
import numpy as np
from nnunetv2.utilities.plans_handling.plans_handler import PlansManager
from nnunetv2.utilities.get_network_from_plans import get_network_from_plans
from nnunetv2.inference.predict_from_raw_data import nnUNetPredictor
from nnunetv2.utilities.label_handling.label_handling import determine_num_input_channels

model_dir, check_dir = sys.argv[1], sys.argv[2]
ck = torch.load(f'{model_dir}/fold_0/checkpoint_final.pth', map_location='cpu')
plans = json.load(open(f'{model_dir}/plans.json'))
ds = json.load(open(f'{model_dir}/dataset.json'))
configuration = ck['init_args']['configuration']
pm = PlansManager(plans)
cm = pm.get_configuration(configuration)
lm = pm.get_label_manager(ds)
net = get_network_from_plans(cm.network_arch_class_name, cm.network_arch_init_kwargs, cm.network_arch_init_kwargs_req_import,
                             determine_num_input_channels(pm, cm, ds), lm.num_segmentation_heads, deep_supervision=True)
net.load_state_dict(ck['network_weights'])
opt = torch.optim.SGD(net.parameters(), 0.01, weight_decay=3e-5, momentum=0.99, nesterov=True)
opt.load_state_dict(ck['optimizer_state'])
assert all(opt.state[p]['momentum_buffer'].shape == p.shape for p in net.parameters())
predictor = nnUNetPredictor(device=torch.device('cpu'), perform_everything_on_device=False, allow_tqdm=False)
predictor.initialize_from_trained_model_folder(model_dir, use_folds=(0,), checkpoint_name='checkpoint_final.pth')
x = torch.from_numpy(np.load(f'{check_dir}/input.npy'))
net.eval()
with torch.no_grad():
    np.save(f'{check_dir}/logits_torch.npy', net(x)[0].numpy())
print(json.dumps({'configuration': configuration, 'input_channels': determine_num_input_channels(pm, cm, ds), 'strict_load_state_dict': len(ck['network_weights']), 'optimizer_state': len(opt.state), 'current_epoch': ck['current_epoch'],
                  '_best_ema': ck['_best_ema'], 'trainer_name': ck['trainer_name'], 'mirroring_axes': ck['inference_allowed_mirroring_axes'],
                  'predictor_trainer': predictor.trainer_name, 'predictor_axes': predictor.allowed_mirroring_axes}))
