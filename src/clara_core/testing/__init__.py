"""The conformance kit: checks any component of any plugin must pass.

Plain ``check_*`` functions chosen by component kind, and a pytest helper that
turns them into one readable test per (component, check), after scikit-learn's
``check_estimator`` / ``parametrize_with_checks``::

    from clara_core.testing import parametrize_with_checks

    @parametrize_with_checks([MyLoss(), MyTransform(fields=["image"])])
    def test_conformance(component, check):
        check(component)
"""

from clara_core.testing.checks import (
    check_get_config_roundtrip,
    check_loss_contract,
    check_metric_contract,
    check_model_learns,
    check_model_output_shape,
    check_model_save_reload,
    check_name_resolves,
    checks_for,
    default_loss_inputs,
    default_metric_inputs,
    default_model_input,
)
from clara_core.testing.events_checks import check_events_plugin
from clara_core.testing.io_checks import (
    check_aux_op_contract,
    check_inferer_contract,
    check_loader_declaration,
    check_writer_contract,
    default_aux_op_context,
    default_inferer_input,
    default_writer_case,
)
from clara_core.testing.pytest_helpers import conformance_tests, parametrize_with_checks
from clara_core.testing.run_checks import (
    check_handler_events,
    check_lr_policy_state_roundtrip,
    check_pipeline_same_seed_same_batches,
    default_pipeline_sample,
    run_handler_events,
)
from clara_core.testing.transform_checks import (
    check_bad_input_clear_error,
    check_declared_fields,
    check_geometry_consistent,
    check_is_deterministic_honest,
    check_probability_zero_is_identity,
    check_same_seed_same_output,
    default_sample,
)

__all__ = [
    "check_aux_op_contract",
    "check_bad_input_clear_error",
    "check_declared_fields",
    "check_events_plugin",
    "check_geometry_consistent",
    "check_get_config_roundtrip",
    "check_handler_events",
    "check_inferer_contract",
    "check_is_deterministic_honest",
    "check_loader_declaration",
    "check_loss_contract",
    "check_lr_policy_state_roundtrip",
    "check_metric_contract",
    "check_model_learns",
    "check_model_output_shape",
    "check_model_save_reload",
    "check_name_resolves",
    "check_pipeline_same_seed_same_batches",
    "check_probability_zero_is_identity",
    "check_same_seed_same_output",
    "check_writer_contract",
    "checks_for",
    "conformance_tests",
    "default_aux_op_context",
    "default_inferer_input",
    "default_loss_inputs",
    "default_metric_inputs",
    "default_model_input",
    "default_pipeline_sample",
    "default_sample",
    "default_writer_case",
    "parametrize_with_checks",
    "run_handler_events",
]
