# Silo image. Build from the repository root:
#   docker build -f k8s/images/silo.Dockerfile -t ghcr.io/supportgrid/silo:1.0.0 .
# Runs as the images' non-root "app" user (UID 1654). "migrate" as the argument runs the schema migration and exits.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish silo/SupportGrid.Silo.csproj -c Release -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
USER $APP_UID
EXPOSE 11111 30000 8081
ENTRYPOINT ["dotnet", "SupportGrid.Silo.dll"]
