// `nemesyst group create|delete|claim|ack|stat`: consumer groups from the command line (for scripts
// and operators; learners use the library API).
#include <iostream>

#include "tools/nemesyst/storage_cli.h"

namespace nemesyst::cli {
namespace {

void AddGroupCreate(CLI::App& group, CliContext& ctx) {
  CLI::App* cmd = group.add_subcommand("create", "Create a consumer group over a stream");
  struct Args {
    std::string group, stream;
    bool latest = false;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("group", args->group, "Group name")->required();
  cmd->add_option("--stream", args->stream, "The stream it consumes")->required();
  cmd->add_flag("--latest", args->latest, "Start after the current end (default: the beginning)");
  cmd->callback([&ctx, args] {
    ctx.action = [&ctx, args]() -> Status {
      NEMESYST_ASSIGN_OR_RETURN(auto store, OpenConfiguredStore(ctx, StoreAccess::kWrite));
      NEMESYST_RETURN_IF_ERROR(store->CreateGroup(
          args->group, args->stream, args->latest ? GroupStart::kLatest : GroupStart::kEarliest));
      std::cout << "created group " << args->group << " on " << args->stream << "\n";
      return Status::OK();
    };
  });
}

void AddDelete(CLI::App& group, CliContext& ctx) {
  CLI::App* cmd =
      group.add_subcommand("delete", "Delete a consumer group (it stops holding back retention)");
  struct Args {
    std::string group;
    bool force = false;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("group", args->group, "Group name")->required();
  cmd->add_flag("--force", args->force,
                "Delete even with unacknowledged (claimed, pending or dead-lettered) batches");
  cmd->callback([&ctx, args] {
    ctx.action = [&ctx, args]() -> Status {
      NEMESYST_ASSIGN_OR_RETURN(auto store, OpenConfiguredStore(ctx, StoreAccess::kWrite));
      NEMESYST_RETURN_IF_ERROR(store->DeleteGroup(args->group, args->force));
      std::cout << "deleted group " << args->group << "\n";
      return Status::OK();
    };
  });
}

void AddClaim(CLI::App& group, CliContext& ctx) {
  CLI::App* cmd = group.add_subcommand(
      "claim", "Claim a batch for a member (prints nothing-to-claim, exit 0, when none)");
  struct Args {
    std::string group, member;
    uint32_t max = 1000;
    int64_t lease_ms = 60'000;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("group", args->group, "Group name")->required();
  cmd->add_option("--member", args->member, "Member name")->required();
  cmd->add_option("--max", args->max, "Most records in the batch (default 1000)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--lease-ms", args->lease_ms, "Lease length (default 60000)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--json", args->json, "Print JSON ({\"claimed\": false} when nothing)");
  cmd->callback([&ctx, args] {
    ctx.action = [&ctx, args]() -> Status {
      NEMESYST_ASSIGN_OR_RETURN(auto store, OpenConfiguredStore(ctx, StoreAccess::kWrite));
      auto batch = store->Claim(args->group, args->member, args->max, args->lease_ms);
      if (!batch.ok() && batch.status().IsWouldBlock()) {
        std::cout << (args->json ? "{\"claimed\":false}" : "nothing to claim") << "\n";
        return Status::OK();
      }
      NEMESYST_RETURN_IF_ERROR(batch.status());
      if (args->json) {
        std::cout << ToJson(*batch).dump() << "\n";
      } else {
        std::cout << "batch " << batch->lease.batch_id << " delivery " << batch->lease.delivery
                  << ": " << batch->stream << " seq " << batch->range.first << ".."
                  << batch->range.last << ", lease until " << batch->lease_expires_ms << " ms\n";
      }
      return Status::OK();
    };
  });
}

void AddAck(CLI::App& group, CliContext& ctx) {
  CLI::App* cmd = group.add_subcommand("ack", "Acknowledge (or --nack) a claimed batch");
  struct Args {
    std::string group;
    uint64_t batch = 0;
    uint32_t delivery = 1;
    bool nack = false, json = false;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("group", args->group, "Group name")->required();
  cmd->add_option("--batch", args->batch, "Batch id from claim")->required();
  cmd->add_option("--delivery", args->delivery, "Delivery number from claim (default 1)");
  cmd->add_flag("--nack", args->nack, "Give the batch back for redelivery instead");
  cmd->add_flag("--json", args->json, "Print JSON");
  cmd->callback([&ctx, args] {
    ctx.action = [&ctx, args]() -> Status {
      NEMESYST_ASSIGN_OR_RETURN(auto store, OpenConfiguredStore(ctx, StoreAccess::kWrite));
      LeaseId lease{args->batch, args->delivery};
      NEMESYST_RETURN_IF_ERROR(args->nack ? store->Nack(args->group, lease)
                                          : store->Ack(args->group, lease));
      if (args->json) {
        std::cout << nlohmann::json{{"group", args->group},
                                    {"batch", args->batch},
                                    {args->nack ? "nacked" : "acked", true}}
                         .dump()
                  << "\n";
      } else {
        std::cout << (args->nack ? "nacked" : "acked") << " batch " << args->batch << "\n";
      }
      return Status::OK();
    };
  });
}

void AddGroupStat(CLI::App& group, CliContext& ctx) {
  CLI::App* cmd = group.add_subcommand("stat", "Progress of consumer groups");
  struct Args {
    std::string group;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("group", args->group, "One group (default: every group)");
  cmd->add_flag("--json", args->json, "Print JSON");
  cmd->callback([&ctx, args] {
    ctx.action = [&ctx, args]() -> Status {
      NEMESYST_ASSIGN_OR_RETURN(auto store, OpenConfiguredStore(ctx, StoreAccess::kRead));
      std::vector<std::string> names;
      if (args->group.empty()) {
        NEMESYST_ASSIGN_OR_RETURN(names, store->ListGroups());
      } else {
        names.push_back(args->group);
      }
      nlohmann::json all = nlohmann::json::array();
      for (const std::string& name : names) {
        NEMESYST_ASSIGN_OR_RETURN(GroupStats s, store->GetGroupStats(name));
        NEMESYST_ASSIGN_OR_RETURN(auto dead, store->ListDeadLetterBatches(name));
        nlohmann::json j = ToJson(s);
        j["dead_letters"] = nlohmann::json::array();
        for (const DeadLetterBatch& d : dead) {
          j["dead_letters"].push_back({{"batch", d.batch_id},
                                       {"first_seq", d.range.first},
                                       {"last_seq", d.range.last},
                                       {"deliveries", d.deliveries},
                                       {"last_member", d.last_member}});
        }
        if (args->json) {
          all.push_back(std::move(j));
          continue;
        }
        std::cout << s.group << " on " << s.stream << ": committed through " << s.committed_seq
                  << ", next unclaimed " << s.next_unclaimed_seq << ", backlog "
                  << s.backlog_records << ", leased " << s.leased_batches << ", pending "
                  << s.pending_batches << ", dead " << s.dead_letter_batches << ", acked "
                  << s.acked_batches_total << ", redelivered " << s.redeliveries_total << "\n";
      }
      if (args->json) std::cout << (args->group.empty() ? all : all[0]).dump() << "\n";
      return Status::OK();
    };
  });
}

}  // namespace

void AddGroupCommands(CLI::App& app, CliContext& ctx) {
  CLI::App* group = app.add_subcommand("group", "Consumer groups: unique batches for workers");
  group->require_subcommand(1);
  AddGroupCreate(*group, ctx);
  AddDelete(*group, ctx);
  AddClaim(*group, ctx);
  AddAck(*group, ctx);
  AddGroupStat(*group, ctx);
}

}  // namespace nemesyst::cli
