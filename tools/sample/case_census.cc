#include "tools/sample/case_census.h"

#include <grpcpp/client_context.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "kosapo/cases/v1/cases.grpc.pb.h"

namespace kosapo::sample {

namespace cv1 = ::kosapo::cases::v1;

absl::StatusOr<std::map<int, YearCensus>> TakeCaseCensus(
    const std::shared_ptr<grpc::Channel>& cases,
    const std::function<std::string(const auth::Principal&)>& sign,
    const std::string& municipality, const std::vector<std::string>& areas) {
  auth::Principal officer;
  officer.subject = "sample-census:ward_officer";
  officer.role = auth::Role::kWardOfficer;
  officer.municipality = municipality;
  officer.areas = areas;
  const std::string bearer = absl::StrCat("Bearer ", sign(officer));
  auto stub = cv1::CaseService::NewStub(cases);
  std::map<int, YearCensus> census;
  for (const std::string& area : areas) {
    std::string token;
    do {
      cv1::ListCasesRequest request;
      request.set_parent(absl::StrCat("municipalities/", municipality));
      request.set_area_code(area);
      request.set_page_size(500);
      request.set_page_token(token);
      cv1::ListCasesResponse response;
      grpc::ClientContext context;
      context.AddMetadata("authorization", bearer);
      context.set_deadline(std::chrono::system_clock::now() +
                           std::chrono::seconds(60));
      const grpc::Status status = stub->ListCases(&context, request, &response);
      if (!status.ok()) {
        return absl::Status(
            static_cast<absl::StatusCode>(status.error_code()),
            absl::StrCat("cases of area ", area, ": ", status.error_message()));
      }
      for (const cv1::Case& c : response.cases()) {
        YearCensus& year = census[c.fiscal_year()];
        ++year.cases;
        ++year.by_source[c.source()];
        if (c.source() == cv1::CASE_SOURCE_SCREENING &&
            !c.extraction_id().empty()) {
          ++year.from_extraction;
        }
      }
      token = response.next_page_token();
    } while (!token.empty());
  }
  return census;
}

}  // namespace kosapo::sample
